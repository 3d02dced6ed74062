"""Worker side of drafting: claim queued generations, stream them, persist, publish.

One task claims its generation plus other queued ones for the same model (up to a batch), so
concurrent drafts are decoded together by generation/'s batching engine. Each generation
streams in its own thread: pieces go to the channel layer at once and to the database at least
every PERSIST_EVERY_S seconds and at the end.
"""

import logging
import os
import socket
import threading
import time

from django.db import close_old_connections, connection
from django.db.models import F
from django.utils import timezone

from articles.events import piece_event, publish, state_event
from articles.models import Generation

logger = logging.getLogger(__name__)

PERSIST_EVERY_S = 0.5
HEARTBEAT_EVERY_S = 2.0
MAX_BATCH = 8

_cache = None
_cache_lock = threading.Lock()


def model_cache():
    """The worker process's models (loaded lazily, never in the parent before fork)."""
    global _cache
    with _cache_lock:
        if _cache is None:
            from generation.models import ModelCache

            _cache = ModelCache(max_bytes=int(os.environ.get("INKSTONE_MODEL_CACHE_BYTES", 8 << 30)))
        return _cache


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _claim(queryset) -> int:
    return queryset.filter(status=Generation.Status.QUEUED, cancel_requested=False).update(
        status=Generation.Status.RUNNING, worker=worker_id(), started_at=timezone.now(),
        heartbeat_at=timezone.now(), attempts=F("attempts") + 1,
    )


def claim_batch(generation_id: int) -> list[Generation]:
    """This generation (if still queued) and other queued ones of the same model.

    A task that finds its generation running elsewhere is a second delivery (at-least-once, or a
    requeued orphan): the generation is marked interrupted only if its worker stopped beating.
    """
    from articles.services import generations_sweep_stale

    if not _claim(Generation.objects.filter(pk=generation_id)):
        generations_sweep_stale(ids=[generation_id])
        return []
    first = Generation.objects.get(pk=generation_id)
    batch = [first]
    others = Generation.objects.filter(status=Generation.Status.QUEUED, model_name=first.model_name).order_by("created_at")
    for candidate in others.values_list("pk", flat=True)[: MAX_BATCH - 1]:
        if _claim(Generation.objects.filter(pk=candidate)):
            batch.append(Generation.objects.get(pk=candidate))
    return batch


class Watch:
    """Background thread: touches heartbeat_at and turns cancel requests into stop events."""

    def __init__(self, generations: list[Generation]):
        self.stops = {g.pk: threading.Event() for g in generations}
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="generation-watch", daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._done.set()
        self._thread.join(5)

    def _run(self):
        last_beat = 0.0
        try:
            while not self._done.wait(PERSIST_EVERY_S):
                close_old_connections()
                ids = [pk for pk, stop in self.stops.items() if not stop.is_set()]
                for pk in Generation.objects.filter(pk__in=ids, cancel_requested=True).values_list("pk", flat=True):
                    self.stops[pk].set()
                if time.monotonic() - last_beat >= HEARTBEAT_EVERY_S:
                    Generation.objects.filter(pk__in=ids, status=Generation.Status.RUNNING).update(heartbeat_at=timezone.now())
                    last_beat = time.monotonic()
        except Exception:
            logger.exception("generation watch failed")
        finally:
            connection.close()


def _messages(generation: Generation) -> list[dict]:
    return [{"role": "user", "content": generation.prompt}]


def _stream_one(engine, loaded, generation: Generation, stop: threading.Event) -> None:
    from generation.streaming import GenerationParams

    try:
        params = GenerationParams(**generation.params, seed=generation.seed)
        stream = engine.submit(
            messages=_messages(generation), system=generation.system_prompt or None,
            params=params, should_stop=stop, loaded=loaded, prefill=generation.prefill or None,
        )
        text, seq, started = generation.text, generation.seq, time.monotonic()
        last_persist = started
        for piece in stream:
            # A model may write a NUL (a byte token): no text, and PostgreSQL refuses to store it.
            piece = piece.replace("\x00", "")
            if not piece:
                continue
            seq += 1
            text += piece
            event = piece_event(generation.pk, seq, piece, tokens=stream.tokens_taken, elapsed=time.monotonic() - started)
            publish(generation.pk, event)
            if time.monotonic() - last_persist >= PERSIST_EVERY_S:
                # with the tokens of that text: a retry of a run cut short writes only what is left
                Generation.objects.filter(pk=generation.pk).update(text=text, seq=seq, completion_tokens=stream.tokens_taken)
                last_persist = time.monotonic()
        result = stream.result
        usage = result.usage
        status = Generation.Status.CANCELLED if result.finish_reason == "cancelled" else Generation.Status.COMPLETED
        Generation.objects.filter(pk=generation.pk).update(
            text=text, seq=seq, status=status, finish_reason=result.finish_reason,
            prompt_tokens=usage.prompt_tokens, completion_tokens=usage.completion_tokens,
            time_to_first_token_s=usage.time_to_first_token_s, tokens_per_s=usage.tokens_per_s,
            finished_at=timezone.now(),
        )
    except Exception as exc:
        logger.exception("generation %s failed", generation.pk)
        Generation.objects.filter(pk=generation.pk).update(
            status=Generation.Status.FAILED, error=str(exc).splitlines()[0][:500] if str(exc) else type(exc).__name__,
            finished_at=timezone.now(), finish_reason="error",
        )
    finally:
        publish(generation.pk, state_event(Generation.objects.get(pk=generation.pk)))
        connection.close()


def _only_permitted(batch: list[Generation]) -> list[Generation]:
    """The task asks the same decision as the page that queued the draft: one whose writer has
    since left the workspace (or lost the role to draft) is not written."""
    from accounts.permissions import decide, membership_for

    allowed = []
    for generation in batch:
        decision = decide(membership_for(generation.created_by, generation.workspace_id), "drafts.create")
        if decision:
            allowed.append(generation)
            continue
        _fail([generation], f"Not written: whoever started it may no longer draft in this workspace ({decision.reason})")
    return allowed


def _fail(generations: list[Generation], error: str) -> None:
    """Mark generations that were never written as failed, and tell their listeners."""
    Generation.objects.filter(pk__in=[g.pk for g in generations]).update(
        status=Generation.Status.FAILED, finish_reason="error", finished_at=timezone.now(), error=error)
    for generation in generations:
        publish(generation.pk, state_event(Generation.objects.get(pk=generation.pk)))


def run_generation(generation_id: int) -> None:
    """Task body: safe to run twice; returns when every claimed generation has finished."""
    from generation.batching import engine_for
    from generation.errors import GenerationError
    from generation.models import ModelSpec

    batch = _only_permitted(claim_batch(generation_id))
    if not batch:
        return
    for generation in batch:
        publish(generation.pk, state_event(generation))
    with Watch(batch) as watch:
        try:
            loaded = model_cache().get(ModelSpec.parse(batch[0].model_name))
        except (GenerationError, ValueError) as exc:
            # Writers read this: it names the model, not the server's files (the log has why).
            logger.warning("could not load %s for generations %s: %s", batch[0].model_name, [g.pk for g in batch], exc)
            name = batch[0].model_version.name if batch[0].model_version_id else "the default model"
            _fail(batch, f"Could not load the model “{name}”. An admin can check it on the Models page; the "
                         "worker's log says why.")
            return
        engine = engine_for(loaded, max_batch=MAX_BATCH, gather_s=0.005)  # the batch is submitted at once
        threads = [
            threading.Thread(target=_stream_one, args=(engine, loaded, g, watch.stops[g.pk]), name=f"generation-{g.pk}")
            for g in batch
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        score_style_fit([g.pk for g in batch], loaded)


def score_style_fit(generation_ids: list[int], loaded) -> None:
    """Score each completed generation whose style has example passages against them
    (generation.evaluate.style_fit, with the model that wrote it) and tell the page. Scoring is
    a bonus: when it fails the generation stays completed with no score (the log says why)."""
    from generation.evaluate import style_fit

    finished = (Generation.objects.filter(pk__in=generation_ids, status=Generation.Status.COMPLETED)
                .exclude(style_version=None).select_related("style_version__profile"))
    for generation in finished:
        try:
            examples = generation.style_version.as_voice().examples
            text = generation.prefix + generation.text
            if not examples or not text.strip():
                continue
            score = style_fit(text, examples, model=loaded)
            Generation.objects.filter(pk=generation.pk).update(style_fit=round(score, 4))
        except Exception:
            logger.exception("style fit of generation %s failed; it stays without a score", generation.pk)
            continue
        publish(generation.pk, state_event(Generation.objects.get(pk=generation.pk)))
