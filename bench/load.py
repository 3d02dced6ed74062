"""Load on the real stack (embedded Redis, web, one generation worker, the default model):

- queue: 100 short drafts posted at once each complete exactly once (claimed once, completed,
  their streamed text equal to the stored text), and their aggregate tokens/s is compared with the
  same 100 requests run straight through generation/'s BatchingEngine in this process;
- viewers: 200 WebSocket clients watch one draft (joining before and while it is written); each
  must end with exactly the stored text, once. Compared with the same draft watched by one client.

Prints one JSON line per result.  Usage: .venv/bin/python bench/load.py [--drafts 100] [--viewers 200]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _stack import Stack, wait_until  # noqa: E402

PROMPT = "Write one sentence about the sea."


def emit(**fields) -> None:
    print(json.dumps(fields), flush=True)


async def watch(stack: Stack, ws_url: str, delay: float = 0.0) -> dict:
    """Follow one generation's socket to its end; the text is the concatenation of its appends."""
    await asyncio.sleep(delay)
    text, seqs, started = "", [], time.perf_counter()
    async with stack.websocket(ws_url) as ws:
        while True:
            message = json.loads(await ws.recv())
            if message["type"] == "append":
                text += message["text"]
                seqs.append(message["seq"])
            elif message["status"] not in ("queued", "running"):
                return {"text": text, "seqs": seqs, "status": message["status"], "seconds": time.perf_counter() - started}


def bench_queue(stack: Stack, drafts: int, tokens: int) -> None:
    from articles.models import Generation

    body = {"prompt": PROMPT, "params": {"max_new_tokens": tokens, "min_new_tokens": tokens}}
    start = time.perf_counter()
    ids = [stack.post_generation({**body, "seed": i})["id"] for i in range(drafts)]
    posted = time.perf_counter() - start
    finished = Generation.objects.filter(pk__in=ids).exclude(status__in=Generation.ACTIVE)
    wait_until(lambda: finished.count() == drafts, 1800, f"{drafts} drafts to finish")
    platform_s = time.perf_counter() - start
    rows = list(Generation.objects.filter(pk__in=ids).values("status", "attempts", "completion_tokens", "seq", "text"))
    exactly_once = sum(r["status"] == "completed" and r["attempts"] == 1 and r["completion_tokens"] == tokens for r in rows)
    baseline_s = baseline_batching(drafts, tokens)
    platform_tps, baseline_tps = drafts * tokens / platform_s, drafts * tokens / baseline_s
    emit(bench="load.queue", drafts=drafts, tokens_each=tokens, post_s=round(posted, 2), completed_exactly_once=exactly_once,
         platform_s=round(platform_s, 1), platform_tokens_per_s=round(platform_tps, 1),
         engine_s=round(baseline_s, 1), engine_tokens_per_s=round(baseline_tps, 1),
         ratio=round(platform_tps / baseline_tps, 3), target=f"{drafts} exactly once",
         ok=exactly_once == drafts)


def baseline_batching(drafts: int, tokens: int) -> float:
    """The same requests straight through the batching engine (no queue, no database, no web)."""
    from _common import in_thread

    from generation.batching import BatchingEngine
    from generation.models import ModelSpec, load_model
    from generation.params import GenerationParams

    loaded = load_model(ModelSpec.parse("default"))
    messages = [{"role": "user", "content": PROMPT}]

    def run() -> float:
        with BatchingEngine(loaded, max_batch=8) as engine:
            start = time.perf_counter()
            streams = [engine.submit(messages=messages, params=GenerationParams(
                max_new_tokens=tokens, min_new_tokens=tokens, seed=i)) for i in range(drafts)]
            for stream in streams:
                stream.result  # noqa: B018 - drains the stream
            return time.perf_counter() - start

    return in_thread(run)


def bench_viewers(stack: Stack, viewers: int, tokens: int) -> None:
    from articles.models import Generation

    async def watched_by(n: int, seed: int) -> tuple[list[dict], str]:
        created = await asyncio.to_thread(stack.post_generation, {
            "prompt": "Write a short story about a lighthouse.", "seed": seed,
            "params": {"max_new_tokens": tokens, "min_new_tokens": tokens}})
        # Half join at once, half while it is being written (over the first two seconds).
        results = await asyncio.gather(*(watch(stack, created["ws_url"], delay=0 if i % 2 else 2 * i / n)
                                         for i in range(n)))
        stored = await asyncio.to_thread(lambda: Generation.objects.get(pk=created["id"]).text)
        return results, stored

    alone, alone_text = asyncio.run(watched_by(1, seed=1))
    crowd, stored = asyncio.run(watched_by(viewers, seed=2))
    exact = sum(r["text"] == stored and r["status"] == "completed" for r in crowd)
    in_order = sum(r["seqs"] == sorted(set(r["seqs"])) for r in crowd)
    seconds = [r["seconds"] for r in crowd]
    emit(bench="load.viewers", viewers=viewers, tokens=tokens, exact_text=exact, seqs_in_order_no_duplicate=in_order,
         one_viewer_s=round(alone[0]["seconds"], 2), viewers_median_s=round(statistics.median(seconds), 2),
         viewers_max_s=round(max(seconds), 2), ratio=round(alone[0]["seconds"] / max(seconds), 3),
         target=f"{viewers} exact", ok=exact == viewers == in_order and alone[0]["text"] == alone_text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drafts", type=int, default=100)
    parser.add_argument("--tokens", type=int, default=16)
    parser.add_argument("--viewers", type=int, default=200)
    parser.add_argument("--viewer-tokens", type=int, default=120)
    args = parser.parse_args()
    with Stack(INKSTONE_GENERATIONS_PER_MINUTE="100000", INKSTONE_MAX_ACTIVE_GENERATIONS_PER_USER="100000") as stack:
        asyncio.run(watch(stack, stack.post_generation({"prompt": PROMPT, "params": {"max_new_tokens": 4}})["ws_url"]))
        bench_queue(stack, args.drafts, args.tokens)
        bench_viewers(stack, args.viewers, args.viewer_tokens)
    return 0


if __name__ == "__main__":
    sys.exit(main())
