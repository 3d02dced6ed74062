"""Serve concurrent requests for one model in a shared batch, each streamed to its own caller.

`BatchingEngine(loaded).submit(messages=..., params=...)` returns a `TextStream` at once; a
background thread collects the requests queued within a short window (up to `max_batch`) and
runs them as one left-padded `model.generate` call. Every row keeps its own sampling parameters,
seed (a per-row torch.Generator, so a request's text does not depend on its batch-mates up to
float rounding), stop sequences and cancel signal: a cancelled row stops, the others go on.

This is static batching: a request that arrives while a batch runs waits for the next one.
(transformers' continuous batching, `generate_batch`/`init_continuous_batching`, needs a paged
attention implementation and has no per-request streamer for a plain CPU model; see bench/README.)
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from generation.streaming import (
    GenerationParams,
    Row,
    StopSignal,
    TextStream,
    prefilled_row,
    run_rows,
)


@dataclass
class _Request:
    loaded: object  # the LoadedModel view (base or base+adapters)
    row: Row


class BatchingEngine:
    """One per loaded base model; thread-safe `submit`; `close()` stops the worker thread."""

    def __init__(self, loaded, *, max_batch: int = 8, gather_s: float = 0.02):
        if max_batch < 1:
            raise ValueError("max_batch must be >= 1")
        self.loaded = loaded
        self.max_batch = max_batch
        self.gather_s = gather_s
        self._queue: queue.Queue[_Request | None] = queue.Queue()
        self._closed = False
        self.batches_run = 0
        self.largest_batch = 0
        self._thread = threading.Thread(target=self._loop, daemon=True, name="batching-engine")
        self._thread.start()

    def submit(
        self,
        *,
        messages: Sequence[dict] | None = None,
        prompt: str | None = None,
        system: str | None = None,
        params: GenerationParams | None = None,
        should_stop: StopSignal = None,
        loaded=None,
        prefill: str | None = None,
    ) -> TextStream:
        """Queue a request; `loaded` may be an adapter view sharing this engine's base model.

        `prefill`: the start of the answer the model continues (see build_prompt_ids).
        """
        if self._closed:
            raise RuntimeError("engine is closed")
        view = loaded or self.loaded
        row = prefilled_row(view, messages=messages, prompt=prompt, system=system, prefill=prefill,
                            params=params, should_stop=should_stop)
        stream = TextStream(row, view.tokenizer)
        self._queue.put(_Request(view, row))
        return stream

    def close(self) -> None:
        self._closed = True
        self._queue.put(None)
        self._thread.join(timeout=60)

    def __enter__(self) -> BatchingEngine:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ worker

    def _loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch, stop = self._gather(first)
            for view, rows in self._by_adapter(batch):
                self.batches_run += 1
                self.largest_batch = max(self.largest_batch, len(rows))
                run_rows(view, rows)
            if stop:
                return

    def _gather(self, first: _Request) -> tuple[list[_Request], bool]:
        """The first request plus whatever arrives within `gather_s` (up to max_batch)."""
        batch = [first]
        deadline = time.perf_counter() + self.gather_s
        while len(batch) < self.max_batch:
            try:
                item = self._queue.get(timeout=max(0.0, deadline - time.perf_counter()))
            except queue.Empty:
                break
            if item is None:
                return batch, True
            batch.append(item)
        return batch, False

    @staticmethod
    def _by_adapter(batch: list[_Request]):
        """Rows of one generate call must share the active adapters."""
        groups: dict[tuple, tuple[object, list[Row]]] = {}
        for req in batch:
            key = tuple(getattr(req.loaded, "adapter_names", ()))
            groups.setdefault(key, (req.loaded, []))[1].append(req.row)
        return list(groups.values())


_engines: dict[int, BatchingEngine] = {}
_engines_lock = threading.Lock()


def engine_for(loaded, **kwargs) -> BatchingEngine:
    """The process-wide engine of `loaded`'s base model (created on first use)."""
    key = id(loaded.lock)
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None or engine._closed:
            engine = _engines[key] = BatchingEngine(loaded, **kwargs)
        return engine
