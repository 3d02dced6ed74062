"""Live events of generations on the channel layer (transport only; the database is the truth).

Every piece carries its generation's sequence number; `text` in the database always holds
exactly the pieces up to `seq`, so a listener can join late and still see everything once.
"""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from articles.models import article_group, generation_group


def publish(generation_id: int, event: dict) -> None:
    """Best effort: a broken channel layer must not stop a generation (the text is persisted)."""
    try:
        async_to_sync(get_channel_layer().group_send)(generation_group(generation_id), event)
    except Exception:  # noqa: BLE001 - transport failures are logged by channels; text is safe in the DB
        pass


def publish_to_article(article_id: int, event: dict) -> None:
    try:
        async_to_sync(get_channel_layer().group_send)(article_group(article_id), event)
    except Exception:  # noqa: BLE001
        pass


def piece_event(generation_id: int, seq: int, text: str, *, tokens: int, elapsed: float) -> dict:
    return {"type": "generation.piece", "id": generation_id, "seq": seq, "text": text,
            "tokens": tokens, "elapsed": round(elapsed, 2)}


def state_event(generation) -> dict:
    return {"type": "generation.state", **generation_state(generation)}


def generation_state(generation) -> dict:
    """What a client needs to show a generation: text so far, its seq, status and usage."""
    return {
        "id": generation.pk,
        "seq": generation.seq,
        "status": generation.status,
        "text": generation.text,
        "prefix": generation.prefix,
        "finish_reason": generation.finish_reason,
        "completion_tokens": generation.completion_tokens,
        "tokens_per_s": generation.tokens_per_s,
        "time_to_first_token_s": generation.time_to_first_token_s,
        "error": generation.error,
    }
