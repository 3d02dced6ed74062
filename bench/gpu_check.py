"""GPU checks, for a machine with CUDA: generation/'s loader picks bf16 on CUDA; single-stream
and batched decoding speed, each against bare `model.generate` in the same run; a 50-step LoRA
fine-tune through `generation.finetune`.

The weights are the bundled default model's architecture (its config.json and tokenizer, which
`--model-dir` points at), randomly initialised: a 64 MiB limit on what travels to a lent GPU
machine keeps the real weights here. Speed depends on the architecture, not on the weights'
values; generation lengths are forced with min_new_tokens.

Prints one JSON line per result (and writes them to --out when given).
Usage: python bench/gpu_check.py [--model-dir DIR] [--device cuda] [--tokens 256] [--steps 50]
(without a CUDA device it says so and exits 0, so `make bench` passes over it)
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

LINES: list[str] = []


def emit(**fields) -> None:
    line = json.dumps(fields)
    LINES.append(line)
    print(line, flush=True)


def build(model_dir: Path, out: Path, device: str) -> None:
    """A random-initialised copy of the model's architecture, saved as a HF directory."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(0)
    config = AutoConfig.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16)
    model.save_pretrained(out)
    AutoTokenizer.from_pretrained(model_dir).save_pretrained(out)


def best(fn, rounds: int) -> float:
    return min(fn() for _ in range(rounds))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=Path, help="config.json + tokenizer (default: the bundled model's cache)")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--tokens", type=int, default=256)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    import torch
    import transformers

    from generation.batching import BatchingEngine
    from generation.models import ModelSpec, load_model
    from generation.params import GenerationParams
    from generation.streaming import stream_generate

    device_name = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"
    emit(check="machine", device=device_name, torch=torch.__version__, transformers=transformers.__version__)
    if args.device == "cuda" and not torch.cuda.is_available():
        emit(check="skipped", reason="no CUDA device here (pass --device cpu to try the script)")
        return 0
    if args.model_dir is None:
        from generation.models import ensure_default_model

        args.model_dir = ensure_default_model().cache_dir
    work = Path(tempfile.mkdtemp(prefix="inkstone-gpu-"))
    model_dir = work / "model"
    build(args.model_dir, model_dir, args.device)

    start = time.perf_counter()
    loaded = load_model(ModelSpec(str(model_dir), device=args.device if args.device != "cuda" else "auto"))
    emit(check="load", device=loaded.device, dtype=loaded.dtype, seconds=round(time.perf_counter() - start, 2),
         parameters=loaded.parameters, ok=(args.device != "cuda" or (loaded.device.startswith("cuda") and loaded.dtype == "bfloat16")))
    loaded.warmup()

    messages = [{"role": "user", "content": "Write a short story about a lighthouse keeper."}]
    n = args.tokens
    params = GenerationParams(max_new_tokens=n, min_new_tokens=n, seed=1)
    ids = loaded.tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    ids = {k: v.to(loaded.device) for k, v in ids.items()}

    def sync():
        if loaded.device.startswith("cuda"):
            torch.cuda.synchronize()

    def bare() -> float:
        sync()
        t0 = time.perf_counter()
        with torch.inference_mode():
            loaded.model.generate(**ids, max_new_tokens=n, min_new_tokens=n, do_sample=True, temperature=0.7, top_p=0.9,
                                  top_k=50, repetition_penalty=1.1, pad_token_id=loaded.tokenizer.pad_token_id)
        sync()
        return time.perf_counter() - t0

    def streamed() -> float:
        t0 = time.perf_counter()
        with stream_generate(loaded, messages=messages, params=params) as stream:
            for _ in stream:
                pass
        assert stream.result.usage.completion_tokens == n
        return time.perf_counter() - t0

    bare_s, stream_s = [], []
    for _ in range(args.rounds):  # alternate, best of rounds
        bare_s.append(bare())
        stream_s.append(streamed())
    emit(check="single_stream", tokens=n, stream_tokens_per_s=round(n / min(stream_s), 1),
         generate_tokens_per_s=round(n / min(bare_s), 1), ratio=round(min(bare_s) / min(stream_s), 3))

    def batched() -> float:
        with BatchingEngine(loaded, max_batch=args.batch, gather_s=0.05) as engine:
            t0 = time.perf_counter()
            streams = [engine.submit(messages=messages, params=GenerationParams(max_new_tokens=n, min_new_tokens=n, seed=i))
                       for i in range(args.batch)]
            for s in streams:
                assert s.result.usage.completion_tokens == n
            return time.perf_counter() - t0

    batch_s = best(batched, args.rounds)
    one_after_another = sum(streamed() for _ in range(args.batch))
    emit(check="batched", requests=args.batch, tokens_each=n, batched_tokens_per_s=round(args.batch * n / batch_s, 1),
         sequential_tokens_per_s=round(args.batch * n / one_after_another, 1), ratio=round(one_after_another / batch_s, 2))

    from generation.finetune import FinetuneParams, finetune

    voice = Path(__file__).resolve().parent / "data" / "voice.jsonl"
    records = [json.loads(line) for line in voice.read_text().splitlines() if line.strip()] * 8
    lora = FinetuneParams(output_dir=str(work / "lora"), method="lora", max_steps=args.steps, batch_size=8,
                          save_steps=10_000, eval_before=False, dtype="bfloat16", logging_steps=10)
    start = time.perf_counter()
    result = finetune(str(model_dir), records, lora)
    seconds = time.perf_counter() - start
    emit(check="lora_finetune", steps=result.global_step, seconds=round(seconds, 1),
         metrics={k: v for k, v in result.metrics.items() if isinstance(v, int | float)})
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text("\n".join(LINES) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
