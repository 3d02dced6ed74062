"""Fine-tunes from training runs arrive as candidates; writers use them only once an admin promotes them."""

import pytest

from catalog.models import ModelVersion
from catalog.services import (
    ModelValidationError,
    UnknownModel,
    model_add_candidate,
    model_choices,
    model_promote,
    model_register,
    model_resolve,
    models_on_disk,
    workspace_adapters_dir,
)
from tests.catalog.conftest import IMPROVED, WORSE


def test_a_finished_run_becomes_a_candidate_with_its_lineage_and_evaluation(workspace, admin, add_candidate, data_dir):
    version = add_candidate(workspace)
    assert (version.name, version.kind, version.status) == ("pirate-run", "lora", "candidate")
    assert version.source == str(data_dir / "adapters" / workspace.slug / "1")
    assert version.base == str(data_dir / "models" / "tiny-base") and version.created_by == admin and version.promoted_at is None
    meta = version.metadata
    assert meta["data_hash"] == "sha256:abc123" and meta["params"] == {"method": "lora", "epochs": 1}  # inkstone.json
    assert meta["run"] == {"id": 1, "url": "/training/1/", "dataset": "Quotes v2"}
    assert version.evaluation == IMPROVED


def test_writers_cannot_pick_a_candidate_anywhere(workspace, admin, writer, add_candidate):
    from articles.services import DraftError, DraftRequest, draft_create
    from styles.services import StyleValidationError, style_create

    add_candidate(workspace)
    assert [c.key for c in model_choices(workspace)] == ["default"]
    with pytest.raises(UnknownModel, match="^“pirate-run” is a candidate that an admin has not promoted yet.$"):
        model_resolve(workspace, "pirate-run")
    with pytest.raises(DraftError) as caught:
        draft_create(workspace=workspace, user=writer, request=DraftRequest(prompt="Hi", model="pirate-run"))
    assert "is a candidate that an admin has not promoted yet" in caught.value.errors["model"]
    with pytest.raises(StyleValidationError) as caught:
        style_create(workspace=workspace, user=admin, name="Pirate", voice="Arr.", default_model="pirate-run")
    assert "candidate" in caught.value.errors["default_model"]


def test_a_taken_name_gets_a_suffix_so_a_finished_run_never_fails(workspace, other_workspace, add_candidate):
    names = [add_candidate(workspace).name for _ in range(3)]
    assert names == ["pirate-run", "pirate-run-2", "pirate-run-3"]
    assert add_candidate(other_workspace).name == "pirate-run"  # names are per workspace
    assert add_candidate(workspace, name="Pirate run #4 (v2)").name == "Pirate-run-4-v2"
    assert add_candidate(workspace, name="default").name == "default-tuned"


def test_a_folder_that_is_not_a_fine_tune_is_refused(workspace, admin, tiny_model_dir, data_dir):
    for folder, message in ((tiny_model_dir, "is not a fine-tune's output"), (data_dir / "gone", "model not found")):
        with pytest.raises(ModelValidationError) as caught:
            model_add_candidate(workspace=workspace, user=admin, name="x", output_dir=folder, evaluation=IMPROVED)
        assert message in caught.value.errors["output_dir"]
    assert not ModelVersion.objects.exists()


def test_promoting_records_who_when_and_why_and_offers_it_to_writers(workspace, admin, add_candidate):
    version = add_candidate(workspace)
    promoted = model_promote(version=version, user=admin)
    promoted.refresh_from_db()
    assert (promoted.status, promoted.promoted_by, promoted.promotion_reason) == ("promoted", admin, "")
    assert promoted.promoted_at is not None
    assert [c.key for c in model_choices(workspace)] == ["default", "pirate-run"]
    assert model_resolve(workspace, "pirate-run").version == promoted
    with pytest.raises(ModelValidationError) as caught:
        model_promote(version=promoted, user=admin, reason="again")
    assert caught.value.errors == {"status": "“pirate-run” is already promoted."}


@pytest.mark.parametrize("evaluation, shown", [(WORSE, "from 20.00 to 25.00"), ({}, "from — to —"),
                                               ({"improved": "yes", "before": [1]}, "from — to —")])
def test_one_that_did_not_improve_needs_a_reason(workspace, admin, add_candidate, evaluation, shown):
    version = add_candidate(workspace, evaluation=evaluation)
    for reason in ("", "   "):
        with pytest.raises(ModelValidationError) as caught:
            model_promote(version=version, user=admin, reason=reason)
        assert f"The validation perplexity went {shown}: this fine-tune did not improve" in caught.value.errors["reason"]
    version.refresh_from_db()
    assert version.status == "candidate"
    model_promote(version=version, user=admin, reason="  Reads better, judged by the team.  ")
    version.refresh_from_db()
    assert (version.status, version.promotion_reason) == ("promoted", "Reads better, judged by the team.")


def test_models_added_by_path_count_as_promoted(workspace, admin, tiny_model_dir):
    version = model_register(workspace=workspace, user=admin, name="plain", source=str(tiny_model_dir))
    assert (version.status, version.promoted_by) == ("promoted", admin) and version.promoted_at is not None


def test_each_workspace_sees_and_adds_only_its_own_fine_tunes(workspace, other_workspace, admin, run_output, data_dir,
                                                             make_member):
    import shutil

    ours, theirs = run_output(workspace, 7), run_output(other_workspace, 8)
    assert workspace_adapters_dir(workspace) == data_dir / "adapters" / workspace.slug == ours.parent
    shutil.copytree(ours, data_dir / "adapters" / "operator-lora")  # placed by whoever runs Inkstone
    shutil.copytree(ours, data_dir / "models" / "house-lora")
    (workspace_adapters_dir(workspace) / "sneaky").symlink_to(theirs)

    offered = {m.source for m in models_on_disk(workspace).models}
    assert offered == {str(ours), str(data_dir / "adapters" / "operator-lora"), str(data_dir / "models" / "house-lora"),
                       str(data_dir / "models" / "tiny-base")}
    assert str(theirs) in {m.source for m in models_on_disk(other_workspace).models}
    assert str(ours) not in {m.source for m in models_on_disk(other_workspace).models}

    for source in (str(theirs), str(theirs.parent), str(ours / ".." / ".." / other_workspace.slug / "8"),
                   str(workspace_adapters_dir(workspace) / "sneaky")):
        with pytest.raises(ModelValidationError) as caught:
            model_register(workspace=workspace, user=admin, name="stolen", source=source)
        assert "is in another workspace's fine-tunes folder" in caught.value.errors["source"], source
    assert model_register(workspace=workspace, user=admin, name="ours", source=str(ours)).kind == "lora"
    assert model_register(workspace=workspace, user=admin, name="op", source=str(data_dir / "adapters" / "operator-lora"))
    their_admin = make_member("admin", other_workspace)
    assert model_register(workspace=other_workspace, user=their_admin, name="theirs", source=str(theirs)).kind == "lora"
