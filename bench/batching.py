"""Aggregate tokens/s of 8 concurrent requests through BatchingEngine vs the same 8 one by one.

Each request decodes exactly --tokens tokens. Sequential baseline: stream_generate for each
request in turn (same code path, no batching), measured in the same run, rounds alternating.
ratio = batched / sequential aggregate tokens/s (best of rounds), target >= 3.
Run: .venv/bin/python bench/batching.py [--requests 8] [--tokens 32] [--rounds 2] [--dtype auto]
"""

from __future__ import annotations

import argparse
import threading

from _common import PROMPTS, chat, default_model_dir, emit, timed_both


def main() -> None:
    from generation.batching import BatchingEngine
    from generation.models import ModelSpec, load_model
    from generation.streaming import GenerationParams, stream_generate

    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=8)
    parser.add_argument("--tokens", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--dtype", default="auto")
    args = parser.parse_args()
    loaded = load_model(ModelSpec(str(default_model_dir()), dtype=args.dtype, device="cpu"))
    n, k = args.tokens, args.requests
    params = [GenerationParams(max_new_tokens=n, min_new_tokens=n, seed=i) for i in range(k)]
    prompts = [chat(PROMPTS[i % len(PROMPTS)]) for i in range(k)]
    list(stream_generate(loaded, messages=prompts[0], params=GenerationParams(max_new_tokens=4)))

    def sequential():
        return [stream_generate(loaded, messages=m, params=p).result for m, p in zip(prompts, params, strict=True)]

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
    runs = {"sequential": [], "batched": []}
    for i in range(args.rounds):  # alternate the order so contention hits both alike
        order = ("sequential", "batched") if i % 2 == 0 else ("batched", "sequential")
        for name in order:
            fn = sequential if name == "sequential" else (lambda: concurrent(engine))
            runs[name].append(timed_both(fn))
    engine.close()
    seq_results, batch_results = runs["sequential"][0][0], runs["batched"][0][0]
    total = k * n
    assert all(r.usage.completion_tokens == n for r in seq_results + batch_results)
    same = sum(a.text == b.text for a, b in zip(seq_results, batch_results, strict=True))
    seq_s = min(w for _, w, _ in runs["sequential"])
    batch_s = min(w for _, w, _ in runs["batched"])
    cpu_ratio = min(c for *_, c in runs["sequential"]) / min(c for *_, c in runs["batched"])
    ttft = max(r.usage.time_to_first_token_s for r in batch_results)
    ratio = seq_s / batch_s
    emit(bench="batching", model=loaded.name, dtype=loaded.dtype, requests=k, tokens_each=n,
         rounds=args.rounds, batched_tok_s=round(total / batch_s, 2),
         baseline="the same requests one after another (stream_generate)",
         baseline_tok_s=round(total / seq_s, 2), ratio=round(ratio, 2), cpu_time_ratio=round(cpu_ratio, 2),
         target=3.0, ok=ratio >= 3.0, largest_batch=engine.largest_batch,
         same_text_as_solo=f"{same}/{k}", batched_ttft_s_max=round(ttft, 2),
         note="best-of-rounds wall times; same_text_as_solo differs in bf16 (padding changes rounding)")


if __name__ == "__main__":
    main()
