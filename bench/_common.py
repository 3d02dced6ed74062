"""Shared helpers for the generation benches (real default model, JSON lines out)."""

from __future__ import annotations

import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PROMPTS = [
    "Write a short product description for a ceramic coffee mug.",
    "Explain photosynthesis to a ten-year-old.",
    "Give three tips for writing a clear email.",
    "Describe a rainy afternoon in a small town.",
    "What makes a good team meeting?",
    "Write the opening line of a mystery novel.",
    "Summarise the benefits of regular exercise.",
    "Suggest a name for a bakery and explain it.",
]


def emit(**fields) -> None:
    print(json.dumps(fields), flush=True)


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def timed_both(fn):
    """(value, wall seconds, process CPU seconds over all threads).

    The CPU here is shared with other jobs, so wall time swings; CPU time measures the work a
    code path does and is far steadier. Benches report both.
    """
    wall, cpu = time.perf_counter(), time.process_time()
    value = fn()
    return value, time.perf_counter() - wall, time.process_time() - cpu


def in_thread(fn):
    """Run fn in a fresh thread and return its value.

    stream_generate and BatchingEngine run model.generate in a worker thread, and on this box a
    worker thread's torch ops run with markedly different (single-threaded) OpenMP behaviour
    than the main thread: 3-5x faster when the 2 cores are contended, slower when idle. Bare
    baselines therefore run in a worker thread too, so ratios compare like with like.
    """
    box = []
    thread = threading.Thread(target=lambda: box.append(fn()))
    thread.start()
    thread.join()
    return box[0] if box else None


def median(values):
    return statistics.median(values)


def chat(prompt: str) -> list[dict]:
    return [{"role": "user", "content": prompt}]


def default_model_dir() -> Path:
    from generation.models import ensure_default_model

    report = ensure_default_model()
    if report.converted:
        emit(
            bench="setup",
            converted=True,
            seconds=round(report.seconds, 2),
            cache=str(report.cache_dir),
        )
    return report.cache_dir
