"""Queue tasks: ids in, one idempotent call."""

from publishing.services import scheduled_transition_run


def scheduled_transition(article_id: int, action: str) -> str:
    return scheduled_transition_run(article_id=article_id, action=action).reason
