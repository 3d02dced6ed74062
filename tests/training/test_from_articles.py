"""Step 7 closes the loop: a dataset version made from approved articles trains (Step 6)."""

import pytest

from tests.corpora.articles import PROMPT, accepted, membership
from tests.training.conftest import VOICE
from training import services
from training.runner import run_training

ARTICLES = ["Stormhold 30", "Galley Flame", "Trail Tarp"]


@pytest.fixture
def with_articles(workspace, admin, make_member, voice_version):
    """The voice dataset's next version: its 24 pairs plus three articles an editor approved."""
    from corpora.services import version_from_articles

    writer = make_member("writer", workspace, username="wendy")
    editor = make_member("editor", workspace, username="edna")
    articles = [accepted(workspace, writer, title, f"Arr, the {title} be fit for any squall, matey!")
                for title in ARTICLES]
    return version_from_articles(dataset=voice_version.dataset, articles=articles, membership=membership(editor))


def test_a_version_made_from_approved_articles_plans_with_their_records(workspace, with_articles, tiny_default):
    planned = services.run_plan(workspace=workspace, request=services.RunRequest(dataset_version=with_articles))
    assert planned.plan.train_records + planned.plan.val_records == len(VOICE) + len(ARTICLES)
    added = [r for r in planned.train_records + planned.validation_records if r.get("prompt") == PROMPT]
    assert sorted(r["completion"] for r in added) == sorted(
        f"Arr, the {title} be fit for any squall, matey!" for title in ARTICLES)


@pytest.mark.django_db(transaction=True)
def test_a_fine_tune_runs_on_a_version_made_from_approved_articles(
        workspace, admin, with_articles, tiny_default, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    run = services.run_create(workspace=workspace, user=admin, request=services.RunRequest(
        dataset_version=with_articles, name="pirate-with-articles",
        params={"max_steps": 4, "save_steps": 2, "batch_size": 4, "max_seq_len": 64}))
    run_training(run.pk)
    run.refresh_from_db()
    assert run.status == "completed", (run.error, run.log)
    assert run.dataset_version == with_articles and run.step == 4
    assert run.model_version.status == "candidate"
