"""float32 vs bfloat16 on this CPU: generation (1 and 8 sequences) and LoRA training steps.

Generation runs in a worker thread, as in stream_generate/BatchingEngine. Rounds alternate the
dtypes and the best round counts (the CPU is shared with other jobs).
Prints one JSON line per case with both figures and ratio = bf16/fp32 (>1: bf16 faster), then
a `choice` line. generation/models.py's CPU_DTYPE constant records the outcome.
Run: .venv/bin/python bench/cpu_dtype.py [--tokens 32] [--rounds 4]
"""

from __future__ import annotations

import argparse

from _common import PROMPTS, chat, default_model_dir, emit, in_thread, timed


def load(dtype: str):
    from generation.models import ModelSpec, load_model

    return load_model(ModelSpec(str(default_model_dir()), dtype=dtype, device="cpu"))


def gen_tok_s(loaded, batch: int, tokens: int) -> float:
    import torch

    tok = loaded.tokenizer
    texts = [
        tok.apply_chat_template(chat(p), tokenize=False, add_generation_prompt=True)
        for p in PROMPTS[:batch]
    ]
    enc = tok(
        texts, return_tensors="pt", padding=True, padding_side="left", add_special_tokens=False
    )
    with torch.no_grad():  # in a worker thread, like stream_generate/BatchingEngine
        _, seconds = timed(
            lambda: in_thread(
                lambda: loaded.model.generate(
                    **enc,
                    do_sample=True,
                    temperature=0.7,
                    top_p=0.9,
                    top_k=50,
                    repetition_penalty=1.1,
                    max_new_tokens=tokens,
                    min_new_tokens=tokens,
                    pad_token_id=tok.pad_token_id,
                )
            )
        )
    return batch * tokens / seconds


def train_tok_s(loaded, steps: int = 3, batch: int = 4, seq: int = 128) -> float:
    """LoRA (r=8, q/k/v/o) forward+backward+AdamW steps on random token batches."""
    import torch
    from peft import LoraConfig, get_peft_model

    model = get_peft_model(
        loaded.model,
        LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "k_proj", "v_proj", "o_proj"]),
    )
    model.train()
    optim = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    gen = torch.Generator().manual_seed(0)
    data = torch.randint(0, 49152, (steps + 1, batch, seq), generator=gen)

    def step(ids):
        loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        optim.step()
        optim.zero_grad()

    step(data[0])  # warm-up
    _, seconds = timed(lambda: [step(ids) for ids in data[1:]])
    model.unload()  # drop LoRA layers, leave the base as it was
    return steps * batch * seq / seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokens", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    models = {d: load(d) for d in ("float32", "bfloat16")}
    for m in models.values():
        gen_tok_s(m, 1, 4)  # warm-up
    results = {}
    for batch in (1, 8):
        samples = {d: [] for d in models}
        for _ in range(args.rounds):  # interleaved so CPU contention hits both alike
            for d, m in models.items():
                samples[d].append(gen_tok_s(m, batch, args.tokens))
        fp32, bf16 = max(samples["float32"]), max(samples["bfloat16"])  # best of rounds
        results[f"generate_batch{batch}"] = bf16 / fp32
        emit(
            bench="cpu_dtype",
            case=f"generate_batch{batch}",
            tokens=args.tokens,
            float32_tok_s=round(fp32, 2),
            bfloat16_tok_s=round(bf16, 2),
            ratio=round(bf16 / fp32, 3),
        )
    samples = {d: [] for d in models}
    for _ in range(2):
        for d, m in models.items():
            samples[d].append(train_tok_s(m))
    fp32, bf16 = max(samples["float32"]), max(samples["bfloat16"])
    results["lora_train"] = bf16 / fp32
    emit(
        bench="cpu_dtype",
        case="lora_train",
        float32_tok_s=round(fp32, 1),
        bfloat16_tok_s=round(bf16, 1),
        ratio=round(bf16 / fp32, 3),
    )
    # bf16 only pays if it is never meaningfully slower (>= 0.95, noise on this shared CPU) and
    # clearly faster (> 1.1) somewhere: generation of 1 or 8 sequences, or LoRA training.
    never_slower = all(r >= 0.95 for r in results.values())
    choice = "bfloat16" if never_slower and max(results.values()) > 1.1 else "float32"
    emit(
        bench="cpu_dtype",
        case="choice",
        choice=choice,
        ratios={k: round(v, 3) for k, v in results.items()},
        rule="bfloat16 if no case < 0.95 and some case > 1.1 (bf16/fp32 tokens/s)",
    )


if __name__ == "__main__":
    main()
