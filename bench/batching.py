"""Aggregate tokens/s of 8 concurrent requests through BatchingEngine vs the same 8 one by one.

Each request decodes exactly --tokens tokens. Baseline: the same requests one after another
through stream_generate (same code path, no batching). Rounds interleave one solo request and
one batch of 8 (the CPU is shared with other jobs, so best-of-rounds times are compared);
sequential time = 8 x best solo time. ratio = batched / sequential aggregate tokens/s, target >= 3.
Run: .venv/bin/python bench/batching.py [--requests 8] [--tokens 32] [--rounds 4] [--full] [--dtype auto]
"""

from __future__ import annotations

import argparse
import threading

from _common import PROMPTS, chat, default_model_dir, emit, median, timed_both


def main() -> None:
    from generation.batching import BatchingEngine
    from generation.models import ModelSpec, load_model
    from generation.streaming import GenerationParams, stream_generate

    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=8)
    parser.add_argument("--tokens", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--full", action="store_true", help="also run every request solo once")
    parser.add_argument("--dtype", default="auto")
    args = parser.parse_args()
    loaded = load_model(ModelSpec(str(default_model_dir()), dtype=args.dtype, device="cpu"))
    n, k = args.tokens, args.requests
    params = [GenerationParams(max_new_tokens=n, min_new_tokens=n, seed=i) for i in range(k)]
    prompts = [chat(PROMPTS[i % len(PROMPTS)]) for i in range(k)]
    list(stream_generate(loaded, messages=prompts[0], params=GenerationParams(max_new_tokens=4)))

    def solo(i):  # one request alone: the unit of the one-after-another baseline
        return stream_generate(loaded, messages=prompts[i], params=params[i]).result

    def concurrent(engine):
        results = [None] * k

        def client(i):  # each caller consumes its own stream
            stream = engine.submit(messages=prompts[i], params=params[i])
            for _ in stream:
                pass
            results[i] = stream.result

        threads = [threading.Thread(target=client, args=(i,)) for i in range(k)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return results

    engine = BatchingEngine(loaded, max_batch=k, gather_s=0.05)
    solo_s, batch_s, solo_results, batch_results = [], [], {}, None
    for r in range(args.rounds):  # interleaved, so contention from other jobs hits both alike
        for i in range(k) if args.full and r == 0 else [r % k]:
            result, wall, _ = timed_both(lambda i=i: solo(i))
            solo_results[i] = result
            solo_s.append(wall)
        batch_results, wall, _ = timed_both(lambda: concurrent(engine))
        batch_s.append(wall)
    engine.close()
    total = k * n
    assert all(r.usage.completion_tokens == n for r in [*solo_results.values(), *batch_results])
    same = sum(batch_results[i].text == res.text for i, res in solo_results.items())
    sequential_s = k * min(solo_s)  # the 8 requests one after another, at the best solo speed
    ratio = sequential_s / min(batch_s)
    emit(
        bench="batching",
        model=loaded.name,
        dtype=loaded.dtype,
        requests=k,
        tokens_each=n,
        rounds=args.rounds,
        batched_tok_s=round(total / min(batch_s), 2),
        baseline="the same requests one after another (stream_generate, best solo time x 8)",
        baseline_tok_s=round(total / sequential_s, 2),
        ratio=round(ratio, 2),
        median_ratio=round(k * median(solo_s) / median(batch_s), 2),
        target=3.0,
        ok=ratio >= 3.0,
        largest_batch=engine.largest_batch,
        same_text_as_solo=f"{same}/{len(solo_results)}",
        batched_ttft_s_max=round(max(r.usage.time_to_first_token_s for r in batch_results), 2),
        note="best-of-rounds wall times on a shared CPU; texts may differ from solo runs in bf16 "
        "(padding changes rounding); --full runs all 8 solo in round 1",
    )


if __name__ == "__main__":
    main()
