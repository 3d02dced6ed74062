"""The training pages: everyone watches the workspace's runs; only admins start, cancel and resume."""

import re

import pytest
from django.urls import reverse

from catalog.models import ModelVersion
from tests.training.runs import add_steps, make_run, upload
from training.models import TrainingRun


def edited(page_text: str) -> dict:
    """The new-run form's fields as the page fills them (what a browser would submit)."""
    data = {}
    for tag in re.findall(r"<(?:input|select)[^>]*>", page_text):
        name = re.search(r'name="([^"]+)"', tag)
        if not name or name.group(1) == "csrfmiddlewaretoken":
            continue
        kind = re.search(r'type="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if kind and kind.group(1) in ("radio", "checkbox"):
            if "checked" in tag:
                data[name.group(1)] = value.group(1) if value else "on"
        elif tag.startswith("<input"):
            data[name.group(1)] = value.group(1) if value else ""
    for name, options in re.findall(r'<select name="([^"]+)"[^>]*>(.*?)</select>', page_text, flags=re.S):
        chosen = re.search(r'<option value="([^"]*)"[^>]*selected', options)
        data[name] = chosen.group(1) if chosen else re.search(r'<option value="([^"]*)"', options).group(1)
    return data


@pytest.mark.parametrize("role", ["writer", "editor", "admin"])
def test_everyone_watches_runs_only_admins_steer_them(client, make_member, workspace, admin, quotes, tiny_default, role):
    run = make_run(workspace, admin, status=TrainingRun.Status.RUNNING, step=4, eta_s=300)
    add_steps(run, 4, val_every=2)
    stopped = make_run(workspace, admin, name="old-run", status=TrainingRun.Status.FAILED, dataset_version=quotes,
                       error="Out of memory: try a smaller batch.")
    user = admin if role == "admin" else make_member(role, workspace)
    client.force_login(user)
    listing = client.get(reverse("training:run_list"))
    assert listing.status_code == 200
    assert "sea-v1-lora" in listing.text and "old-run" in listing.text
    assert listing.text.index("old-run") < listing.text.index("sea-v1-lora")  # newest first
    detail = client.get(run.get_absolute_url())
    assert detail.status_code == 200
    assert "Step 4 of 10" in detail.text and "about 5 min left" in detail.text
    assert "<polyline" in detail.text and "Validation loss from" in detail.text
    failed = client.get(stopped.get_absolute_url()).text
    assert "Out of memory: try a smaller batch." in failed
    is_admin = role == "admin"
    assert ("New run" in listing.text) is is_admin
    assert (">Cancel</button>" in detail.text) is is_admin
    assert (">Resume</button>" in failed) is is_admin
    assert client.get(reverse("training:run_new")).status_code == (200 if is_admin else 403)
    cancel = client.post(reverse("training:run_cancel", args=[run.pk]))
    resume = client.post(reverse("training:run_resume", args=[stopped.pk]))
    run.refresh_from_db()
    stopped.refresh_from_db()
    if is_admin:
        assert cancel.status_code == resume.status_code == 302
        assert run.cancel_requested and stopped.status == TrainingRun.Status.QUEUED
    else:
        assert cancel.status_code == resume.status_code == 403
        assert not run.cancel_requested and stopped.status == TrainingRun.Status.FAILED


def test_the_status_filter_and_the_dashboard_show_runs(client, workspace, admin):
    make_run(workspace, admin, name="done-run", status=TrainingRun.Status.COMPLETED, step=10)
    make_run(workspace, admin, name="waiting-run")
    client.force_login(admin)
    finished = client.get(reverse("training:run_list"), {"status": "completed"}).text
    assert "done-run" in finished and "waiting-run" not in finished
    dashboard = client.get(reverse("dashboard")).text
    assert "done-run" in dashboard and "waiting-run" in dashboard and "No training runs yet" not in dashboard
    assert 'href="/training/"' in client.get(reverse("dashboard")).text


def test_a_queued_run_says_how_many_are_ahead(client, workspace, admin):
    make_run(workspace, admin, name="first", status=TrainingRun.Status.RUNNING)
    later = make_run(workspace, admin, name="second")
    client.force_login(admin)
    assert "Waiting: 1 run ahead of it." in client.get(later.get_absolute_url()).text
    listing = client.get(reverse("training:run_list")).text
    row = listing[listing.index(f'data-testid="run-{later.pk}"'):]
    assert "queued 0" in row[:row.index("</tr>")] and "started" not in row[:row.index("</tr>")]  # it has not started


def test_a_finished_run_shows_its_evaluation_and_candidate(client, workspace, admin):
    version = ModelVersion.objects.create(workspace=workspace, name="sea-v1-lora", kind="lora", source="/x", spec="/x")
    evaluation = {"before": {"val_loss": 2.31, "perplexity": 100.5}, "after": {"val_loss": 1.12, "perplexity": 20.1},
                  "improved": True, "change": -0.8,
                  "samples": [{"prompt": "Tell me of the sea", "base": "The sea is big.", "tuned": "Arr, the briny deep."}]}
    run = make_run(workspace, admin, status=TrainingRun.Status.COMPLETED, step=10, evaluation=evaluation,
                   model_version=version)
    client.force_login(admin)
    page = client.get(run.get_absolute_url()).text
    assert "100.50" in page and "20.10" in page and "Arr, the briny deep." in page
    assert version.get_absolute_url() in page


def test_another_workspaces_run_is_not_found(client, make_member, other_workspace):
    theirs = make_run(other_workspace, status=TrainingRun.Status.FAILED)
    client.force_login(make_member("admin"))
    assert client.get(theirs.get_absolute_url()).status_code == 404
    assert client.post(reverse("training:run_resume", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("training:run_cancel", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == TrainingRun.Status.FAILED


# --------------------------------------------------------------------------- the new-run form


def test_admin_launches_a_run_with_the_presets_settings(client, admin, quotes, tiny_default):
    client.force_login(admin)
    page = client.get(reverse("training:run_new"))
    assert page.status_code == 200
    assert 'value="sea-quotes-v1-lora"' in page.text  # the suggested name
    assert "Why these settings" in page.text and "one example per text" in page.text
    assert "no validation split" in page.text and "Validation fraction" in page.text
    data = edited(page.text)
    assert data["learning_rate"] and data["params_shown"] == "1"
    response = client.post(reverse("training:run_new"), data)
    run = TrainingRun.objects.get()
    assert response.status_code == 302 and response.url == run.get_absolute_url()
    assert run.name == "sea-quotes-v1-lora" and run.status == TrainingRun.Status.QUEUED
    assert not [r for r in run.plan["reasons"] if r.startswith("You set")]  # nothing was edited
    assert run.max_steps == run.plan["optimizer_steps"] > 0


def test_only_settings_the_admin_changed_are_overrides(client, admin, quotes, tiny_default):
    client.force_login(admin)
    data = edited(client.get(reverse("training:run_new")).text)
    data["learning_rate"] = "0.0002"
    client.post(reverse("training:run_new"), data)
    run = TrainingRun.objects.get()
    assert run.params["learning_rate"] == 0.0002
    assert [r for r in run.plan["reasons"] if r.startswith("You set")] == [
        next(r for r in run.plan["reasons"] if r.startswith("You set learning_rate"))]


def test_the_estimate_refills_settings_when_the_preset_changes(client, admin, quotes, tiny_default):
    client.force_login(admin)
    data = edited(client.get(reverse("training:run_new")).text)
    quick_lr = data["learning_rate"]
    data.update(preset="thorough", learning_rate="0.5")
    changed = client.get(reverse("training:run_estimate"), data, HTTP_HX_REQUEST="true", HTTP_HX_TRIGGER_NAME="preset")
    assert changed.status_code == 200
    assert 'id="run-params" class="run-params" hx-swap-oob="true"' in changed.text
    assert 'value="0.5"' not in changed.text  # the thorough preset's own values, not the stale edit
    assert "Your changes" not in changed.text and "Optimizer steps" in changed.text
    data = edited(client.get(reverse("training:run_new")).text)
    data["learning_rate"] = "0.0002"
    edited_lr = client.get(reverse("training:run_estimate"), data, HTTP_HX_REQUEST="true",
                           HTTP_HX_TRIGGER_NAME="learning_rate")
    assert "Your changes" in edited_lr.text and "0.0002" in edited_lr.text and quick_lr != "0.0002"
    assert "hx-swap-oob" not in edited_lr.text  # the admin's edit stays as typed


def test_full_fine_tune_hides_the_lora_settings(client, admin, quotes, tiny_default):
    client.force_login(admin)
    data = edited(client.get(reverse("training:run_new")).text)
    assert 'name="lora_r"' in client.get(reverse("training:run_new")).text
    data["method"] = "full"
    full = client.get(reverse("training:run_estimate"), data, HTTP_HX_REQUEST="true", HTTP_HX_TRIGGER_NAME="method")
    assert 'name="lora_r"' not in full.text and 'name="learning_rate"' in full.text


def test_the_form_names_the_field_at_fault_and_stores_nothing(client, workspace, admin, quotes, tiny_default):
    from corpora.models import Record

    client.force_login(admin)
    data = edited(client.get(reverse("training:run_new")).text)
    ModelVersion.objects.create(workspace=workspace, name="smol-gguf", kind="gguf", source="/m/smol.gguf",
                                spec="/m/smol.gguf", status="promoted")
    make_run(workspace, admin, name="taken")
    only_validation = upload(workspace, admin, "Held out", ["One line.", "Two lines.", "Three lines."])
    Record.objects.filter(version=only_validation).update(split="validation")

    def errors(**changes):
        response = client.post(reverse("training:run_new"), {**data, **changes})
        assert response.status_code == 200
        return {name: " ".join(messages) for name, messages in response.context["form"].errors.items()}

    assert "nothing to train on" in errors(dataset_version=str(only_validation.pk))["dataset_version"]
    assert "full fine-tune" in errors(base_model="smol-gguf", method="full")["method"]
    assert "exists" in errors(name="taken")["name"]
    assert "Learning rate must be > 0" in errors(learning_rate="-1")["learning_rate"]
    assert "Batch size" in errors(batch_size="0")["batch_size"]
    assert TrainingRun.objects.count() == 1  # only "taken"


def test_without_a_ready_dataset_the_page_says_where_to_start(client, admin):
    client.force_login(admin)
    page = client.get(reverse("training:run_new"))
    assert "No dataset version is ready to train on" in page.text


def test_the_estimate_panel_names_unlabelled_fields_too(client, admin, quotes, tiny_default):
    """Fields without an explicit label (preset, name, validation fraction) are named as on the form, never "None"."""
    client.force_login(admin)
    data = edited(client.get(reverse("training:run_new")).text)
    panel = client.get(reverse("training:run_estimate"), {**data, "validation_fraction": "5", "preset": "bogus"},
                       HTTP_HX_REQUEST="true").text
    assert "None:" not in panel
    assert "Validation fraction: Ensure this value is less than or equal to 0.9." in panel
    assert "Preset: Select a valid choice." in panel


def test_whole_number_settings_are_bounded_where_they_really_are(client, admin, quotes, tiny_default):
    """A seed below 0 was accepted and failed the run when training started; a negative batch
    size was told it must be at least -1."""
    client.force_login(admin)
    data = edited(client.get(reverse("training:run_new")).text)
    seed = client.post(reverse("training:run_new"), {**data, "seed": "-1"}).context["form"]
    assert "greater than or equal to 0" in " ".join(seed.errors["seed"])
    batch = client.post(reverse("training:run_new"), {**data, "batch_size": "-3"}).context["form"]
    assert " ".join(batch.errors["batch_size"]) == "Batch size must be >= 1."
    assert not TrainingRun.objects.exists()
    assert client.post(reverse("training:run_new"), {**data, "max_steps": "-1"}).status_code == 302  # -1: use epochs

