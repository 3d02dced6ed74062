"""/api/trainings/: the same checks as the page, steps for the chart, roles."""

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from training import services
from training.models import TrainingRun, TrainingStep


@pytest.fixture
def api(admin):
    client = APIClient()
    client.force_authenticate(admin)
    return client


@pytest.fixture
def body(voice_version, tiny_model):
    return {"dataset": voice_version.dataset_id, "preset": "quick", "name": "pirate-lora"}


def test_create_answers_201_with_the_plan_and_the_run_is_queued(api, body):
    response = api.post("/api/trainings/", {**body, "params": {"learning_rate": 0.0005}}, format="json")
    assert response.status_code == 201, response.json()
    run = response.json()
    assert run["status"] == "queued" and run["queue_position"] == 0 and run["version"] == 1
    assert run["params"]["learning_rate"] == 0.0005 and run["plan"]["reasons"]
    assert run["ws_url"] == f"/ws/trainings/{run['id']}/" and run["steps"] == []


def test_create_refuses_what_the_page_refuses_naming_the_field(api, body, workspace):
    cases = [
        ({**body, "params": {"batch_size": 0}}, "batch_size"),
        ({**body, "params": {"seed": -1}}, "seed"),  # numpy refuses it when training starts
        ({**body, "params": {"learning_rat": 0.1}}, "learning_rat"),  # the serializer names unknown fields
        ({**body, "base_model": "nope"}, "base_model"),
        ({**body, "dataset": 999999}, "dataset"),
        ({**body, "version": 7}, "version"),
        ({**body, "method": "half"}, "method"),
        ({**body, "name": "bad name!"}, "name"),
    ]
    for data, field in cases:
        response = api.post("/api/trainings/", data, format="json")
        assert response.status_code == 400, (data, response.json())
        assert field in str(response.json()), (field, response.json())
    assert not TrainingRun.objects.exists()


def test_estimate_does_not_start_anything(api, body):
    response = api.post("/api/trainings/estimate/", body, format="json")
    assert response.status_code == 200, response.json()
    plan = response.json()
    assert plan["optimizer_steps"] > 0 and plan["tokens"] > 0 and "seed" in plan["validation"]
    assert not TrainingRun.objects.exists()


def test_detail_has_the_step_metrics_in_order_and_list_filters_by_status(api, body):
    run_id = api.post("/api/trainings/", body, format="json").json()["id"]
    for step, loss in ((2, 2.5), (1, 3.0)):
        TrainingStep.objects.create(run_id=run_id, step=step, train_loss=loss)
    detail = api.get(f"/api/trainings/{run_id}/").json()
    assert [(s["step"], s["train_loss"]) for s in detail["steps"]] == [(1, 3.0), (2, 2.5)]
    assert [r["id"] for r in api.get("/api/trainings/?status=queued").json()["results"]] == [run_id]
    assert api.get("/api/trainings/?status=completed").json()["results"] == []
    assert api.get("/api/trainings/?status=bogus").status_code == 400


def test_cancel_and_resume(api, body):
    run_id = api.post("/api/trainings/", body, format="json").json()["id"]
    assert api.post(f"/api/trainings/{run_id}/cancel/").json()["status"] == "cancelled"
    again = api.post(f"/api/trainings/{run_id}/cancel/")
    assert again.status_code == 400 and "nothing to cancel" in str(again.json())
    assert api.post(f"/api/trainings/{run_id}/resume/").json()["status"] == "queued"


def test_writers_and_editors_watch_but_only_admins_start_cancel_or_resume(make_member, workspace, api, body):
    run_id = api.post("/api/trainings/", body, format="json").json()["id"]
    for role in ("writer", "editor"):
        client = APIClient()
        client.force_authenticate(make_member(role, workspace))
        assert client.get(f"/api/trainings/{run_id}/").status_code == 200
        assert client.post("/api/trainings/", {**body, "name": f"by-{role}"}, format="json").status_code == 403
        assert client.post(f"/api/trainings/{run_id}/cancel/").status_code == 403
        assert client.post(f"/api/trainings/{run_id}/resume/").status_code == 403
    assert TrainingRun.objects.get().status == "queued"


def test_another_workspaces_run_is_not_found(make_member, other_workspace, api, body):
    run_id = api.post("/api/trainings/", body, format="json").json()["id"]
    outsider = APIClient()
    outsider.force_authenticate(make_member("admin", other_workspace))
    assert outsider.get(f"/api/trainings/{run_id}/").status_code == 404
    assert outsider.post(f"/api/trainings/{run_id}/cancel/").status_code == 404
    assert outsider.get("/api/trainings/").json()["results"] == []


def test_manage_py_train_plans_and_queues_like_the_page(admin, voice_version, tiny_model, capsys):
    call_command("train", "--user", admin.username, "--dataset", voice_version.dataset.name, "--plan",
                 "--set", "learning_rate=0.0007")
    out = capsys.readouterr().out
    assert "learning_rate=0.0007" in out and "optimizer steps" in out and not TrainingRun.objects.exists()
    call_command("train", "--user", admin.username, "--dataset", voice_version.dataset.name, "--no-follow")
    run = TrainingRun.objects.get()
    assert capsys.readouterr().out.strip() == str(run.pk) and run.status == "queued"
    with pytest.raises(CommandError, match="--set .batch=2.: use FIELD=VALUE"):
        call_command("train", "--user", admin.username, "--dataset", voice_version.dataset.name, "--set", "batch=2")
    with pytest.raises(CommandError, match="No dataset 'nope'"):
        call_command("train", "--user", admin.username, "--dataset", "nope")
    with pytest.raises(CommandError, match="Seed must be >= 0"):  # it would fail once training started
        call_command("train", "--user", admin.username, "--dataset", voice_version.dataset.name, "--plan", "--set", "seed=-1")


def test_manage_py_train_refuses_a_writer(make_member, workspace, voice_version, tiny_model):
    writer = make_member("writer", workspace)
    with pytest.raises(CommandError, match="only admins train models"):
        call_command("train", "--user", writer.username, "--dataset", voice_version.dataset.name)


def test_run_create_service_is_what_the_api_calls(admin, workspace, voice_version, tiny_model):
    """The API adds no rule of its own: a name the service refuses is refused the same way."""
    services.run_create(workspace=workspace, user=admin, request=services.RunRequest(dataset_version=voice_version,
                                                                                     name="taken"))
    client = APIClient()
    client.force_authenticate(admin)
    response = client.post("/api/trainings/", {"dataset": voice_version.dataset_id, "name": "taken"}, format="json")
    assert response.status_code == 400 and "would be overwritten" in response.json()["name"][0]
