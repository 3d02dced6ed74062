import pytest

from tests.generation.conftest import default_model_dir, smollm2_tokenizer_dir, tiny_model_dir  # noqa: F401


@pytest.fixture
def tiny_model(settings, tiny_model_dir):  # noqa: F811
    """Drafts in these tests use the tiny random model (fast; its text is gibberish)."""
    settings.INKSTONE_DEFAULT_MODEL = str(tiny_model_dir)
    return str(tiny_model_dir)


@pytest.fixture
def writer(make_member, workspace):
    return make_member("writer", workspace, username="wendy")


def collect_group(group: str):
    """Subscribe a fresh channel to a group; returns (receive_all, close)."""
    import asyncio

    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(group, channel)

    async def drain():
        events = []
        while True:
            try:
                events.append(await asyncio.wait_for(layer.receive(channel), timeout=0.5))
            except TimeoutError:
                return events

    return (lambda: async_to_sync(drain)()), (lambda: async_to_sync(layer.group_discard)(group, channel))


def published_while(group: str, action) -> list[dict]:
    """The events a group received while `action()` ran (and shortly after)."""
    receive, close = collect_group(group)
    try:
        action()
        return receive()
    finally:
        close()
