"""The migrations keep what is there: existing models become promoted (an admin chose them) and a
style's model name becomes a reference to that model of its workspace."""

import pytest

from tests.support import migrate

BEFORE = [("catalog", "0002_bound_source_and_description_lengths"), ("styles", "0001_initial")]



@pytest.mark.django_db(transaction=True)
def test_existing_models_are_promoted_and_styles_point_at_their_models(workspace, other_workspace, admin):
    apps = migrate(BEFORE)
    try:
        ModelVersion = apps.get_model("catalog", "ModelVersion")
        StyleProfile = apps.get_model("styles", "StyleProfile")
        StyleProfileVersion = apps.get_model("styles", "StyleProfileVersion")
        ours = ModelVersion.objects.create(workspace_id=workspace.pk, name="saltbeard", kind="lora", source="/a",
                                           spec="/a", created_by_id=admin.pk)
        theirs = ModelVersion.objects.create(workspace_id=other_workspace.pk, name="saltbeard", kind="model",
                                             source="/b", spec="/b")
        picks = {}
        for space, name, model in ((workspace, "Pirate", " saltbeard"), (workspace, "Plain", ""),
                                   (workspace, "Bundled", "default"), (workspace, "Removed", "gone"),
                                   (other_workspace, "Theirs", "saltbeard")):
            profile = StyleProfile.objects.create(workspace_id=space.pk, name=name)
            picks[name] = StyleProfileVersion.objects.create(profile=profile, number=1, default_model=model).pk
    finally:
        apps = migrate()

    ModelVersion = apps.get_model("catalog", "ModelVersion")
    for version in ModelVersion.objects.all():
        assert version.status == "promoted" and version.promoted_at == version.created_at
    assert ModelVersion.objects.get(pk=ours.pk).promoted_by_id == admin.pk
    assert ModelVersion.objects.get(pk=theirs.pk).promoted_by_id is None
    StyleProfileVersion = apps.get_model("styles", "StyleProfileVersion")
    chosen = {name: StyleProfileVersion.objects.get(pk=pk).default_model_id for name, pk in picks.items()}
    assert chosen == {"Pirate": ours.pk, "Plain": None, "Bundled": None, "Removed": None, "Theirs": theirs.pk}

    from catalog.models import ModelVersion as Current

    # Rows added later without saying are candidates (model_register promotes what admins add).
    assert Current.objects.create(workspace=workspace, name="new", kind="lora", source="/c", spec="/c").status == "candidate"
