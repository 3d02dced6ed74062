"""Watching a run over a WebSocket: the stored state first, then only newer events; the HTML panel
re-renders from the database, throttled, and always shows the last state."""

import json

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.db.models import F

from tests.training.runs import add_steps, make_run
from training.models import TrainingRun, TrainingStep, training_group


@pytest.fixture
def watched(workspace, make_member):
    admin = make_member("admin", workspace, username="ada")
    run = make_run(workspace, admin, status=TrainingRun.Status.RUNNING, step=2, seq=3, log="10:00:00 Starting.\n")
    add_steps(run, 2)
    return admin, run


def communicator(user, path):
    from config.routing import websocket_urlpatterns

    socket = WebsocketCommunicator(URLRouter(websocket_urlpatterns), path)
    socket.scope["user"] = user
    return socket


async def received(socket, timeout=0.6, parse=True):
    messages = []
    while not await socket.receive_nothing(timeout=timeout):
        text = await socket.receive_from()
        messages.append(json.loads(text) if parse else text)
    return messages


def step_event(run_id, seq, step, status="running"):
    return {"type": "training.step", "id": run_id, "seq": seq, "status": status, "step": step, "max_steps": 10,
            "row": {"step": step, "train_loss": 1.0, "val_loss": None}}


@sync_to_async
def store_step(run, step, status=TrainingRun.Status.RUNNING):
    TrainingStep.objects.create(run=run, step=step, train_loss=1.0)
    TrainingRun.objects.filter(pk=run.pk).update(step=step, status=status, seq=F("seq") + 1)
    return TrainingRun.objects.get(pk=run.pk).seq


@pytest.mark.django_db(transaction=True)
def test_json_watcher_gets_a_snapshot_then_only_newer_events(watched):
    admin, run = watched

    async def scenario():
        socket = communicator(admin, f"/ws/trainings/{run.pk}/")
        assert (await socket.connect())[0]
        first = await received(socket)
        layer, group = get_channel_layer(), training_group(run.pk)
        await layer.group_send(group, step_event(run.pk, 2, 2))  # already in the snapshot
        await layer.group_send(group, step_event(run.pk, 3, 2))  # ditto (same seq)
        await layer.group_send(group, step_event(run.pk, 4, 3))
        await layer.group_send(group, {"type": "training.log", "id": run.pk, "seq": 5, "line": "step 3 done"})
        await layer.group_send(group, {"type": "training.state", "id": run.pk, "seq": 5, "status": "running"})
        await layer.group_send(group, {"type": "training.state", "id": run.pk, "seq": 5, "status": "running"})
        await layer.group_send(group, {"type": "training.log", "id": run.pk, "seq": 5, "line": "step 3 done"})
        rest = await received(socket)
        await socket.disconnect()
        return first, rest

    first, rest = async_to_sync(scenario)()
    assert len(first) == 1 and first[0]["type"] == "snapshot" and first[0]["seq"] == 3
    assert [s["step"] for s in first[0]["steps"]] == [1, 2] and "Starting." in first[0]["log"]
    assert [(m["type"], m["seq"]) for m in rest] == [("step", 4), ("log", 5), ("state", 5)]


@pytest.mark.django_db(transaction=True)
def test_json_watcher_that_missed_events_gets_a_fresh_snapshot(watched):
    admin, run = watched

    async def scenario():
        socket = communicator(admin, f"/ws/trainings/{run.pk}/")
        await socket.connect()
        await received(socket)
        await store_step(run, 3)  # seq 4: its event never reached this socket
        seq = await store_step(run, 4)  # seq 5
        await get_channel_layer().group_send(training_group(run.pk), step_event(run.pk, seq, 4))
        messages = await received(socket)
        await socket.disconnect()
        return messages

    messages = async_to_sync(scenario)()
    assert [m["type"] for m in messages] == ["snapshot"]
    assert messages[0]["seq"] == 5 and [s["step"] for s in messages[0]["steps"]] == [1, 2, 3, 4]


@pytest.mark.django_db(transaction=True)
def test_html_panel_is_sent_first_then_rerendered_throttled_ending_on_the_final_state(watched):
    admin, run = watched

    async def scenario():
        socket = communicator(admin, f"/ws/trainings/{run.pk}/html/")
        assert (await socket.connect())[0]
        first = await received(socket, parse=False)
        layer, group = get_channel_layer(), training_group(run.pk)
        await layer.group_send(group, step_event(run.pk, 3, 2))  # not newer: nothing to send
        stale = await received(socket, 0.4, parse=False)
        for step in range(3, 11):  # a burst of steps, faster than the panel re-renders
            status = TrainingRun.Status.COMPLETED if step == 10 else TrainingRun.Status.RUNNING
            seq = await store_step(run, step, status)
            await layer.group_send(group, step_event(run.pk, seq, step, status))
        burst = await received(socket, 1.0, parse=False)
        await socket.disconnect()
        return first, stale, burst

    first, stale, burst = async_to_sync(scenario)()
    assert len(first) == 1 and 'id="run-panel"' in first[0] and 'data-seq="3"' in first[0]
    assert "Step 2 of 10" in first[0] and ">Cancel</button>" in first[0]
    assert stale == []
    assert 1 <= len(burst) <= 3  # 8 events in well under a second: a few renders, not 8
    assert 'data-status="completed"' in burst[-1] and "Step 10 of 10" in burst[-1]


@pytest.mark.django_db(transaction=True)
def test_writer_watches_without_buttons_and_outsiders_are_refused(watched, make_member, workspace, other_workspace):
    from django.contrib.auth.models import AnonymousUser

    _, run = watched
    writer = make_member("writer", workspace)
    outsider = make_member("admin", other_workspace)

    async def attempt(user, path):
        socket = communicator(user, path)
        connected, code = await socket.connect()
        messages = await received(socket, 0.3, parse=False) if connected else []
        if connected:
            await socket.disconnect()
        return connected, code, messages

    for path in (f"/ws/trainings/{run.pk}/", f"/ws/trainings/{run.pk}/html/"):
        assert async_to_sync(attempt)(outsider, path)[:2] == (False, 4403)
        assert async_to_sync(attempt)(AnonymousUser(), path)[:2] == (False, 4401)
        assert async_to_sync(attempt)(writer, f"/ws/trainings/{run.pk + 1000}/")[:2] == (False, 4403)
    connected, _, messages = async_to_sync(attempt)(writer, f"/ws/trainings/{run.pk}/html/")
    assert connected and "Step 2 of 10" in messages[0] and "Cancel" not in messages[0]
