"""Fine-tuning on the tiny random model (fast) and a few steps on the real default model."""

from __future__ import annotations

import hashlib
import json
import math
from datetime import datetime
from pathlib import Path

import pytest

from generation.errors import DatasetError, GenerationError
from generation.finetune import FinetuneParams, finetune, merge_and_export, read_metadata
from generation.models import describe_model
from generation.training.data import (
    IGNORE_INDEX,
    pack_texts,
    read_records,
    tokenize_supervised,
    validate_records,
)

VOICE = Path(__file__).resolve().parents[2] / "bench" / "data" / "voice.jsonl"


def synthetic(n: int = 24) -> list[dict]:
    """A learnable toy voice: every completion shares a catch-phrase."""
    topics = ["boots", "tents", "socks", "maps", "stoves", "packs", "hats", "poles"]
    return [
        {
            "prompt": f"Describe our {topics[i % len(topics)]} (item {i}).",
            "completion": f"Ahoy matey! Our {topics[i % len(topics)]} be grand. Fair winds and dry socks!",
        }
        for i in range(n)
    ]


def tiny_params(out: Path, **kw) -> FinetuneParams:
    base = dict(
        output_dir=str(out),
        batch_size=4,
        max_seq_len=96,
        learning_rate=1e-2,
        lora_r=8,
        lora_alpha=16,
        lora_dropout=0.0,
        save_steps=100,
        seed=0,
    )
    base.update(kw)
    return FinetuneParams(**base)


@pytest.fixture(scope="module")
def tokenizer(tiny_model_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_model_dir)


@pytest.fixture(scope="module")
def lora_run(tiny_model_dir, tmp_path_factory):
    """One LoRA run shared by several tests (it is the slowest part)."""
    out = tmp_path_factory.mktemp("lora")
    records = synthetic(24)
    events = []
    params = tiny_params(
        out, epochs=3, validation_records=synthetic(28)[24:], eval_steps=6, lora_target_modules="all-linear"
    )
    result = finetune(tiny_model_dir, records, params, on_progress=events.append)
    return result, events, records


# --------------------------------------------------------------------------- data


def test_completion_only_labels_mask_prompt(tokenizer):
    rec = {"prompt": "Describe our boots.", "completion": "Ahoy! Boots be grand."}
    ex = tokenize_supervised(tokenizer, rec, max_seq_len=512)
    ids, labels = ex["input_ids"], ex["labels"]
    assert len(ids) == len(labels)
    first = next(i for i, label in enumerate(labels) if label != IGNORE_INDEX)
    assert first > 0
    assert all(label == IGNORE_INDEX for label in labels[:first])
    assert labels[first:] == ids[first:]
    # Everything up to `first` is the rendered prompt; the labelled part is the completion
    # plus the end-of-turn token.
    prompt_text = tokenizer.decode(ids[:first])
    assert "Describe our boots." in prompt_text and "Ahoy" not in prompt_text
    assert prompt_text.endswith("<|im_start|>assistant\n")
    assert tokenizer.decode(ids[first:]).startswith("Ahoy! Boots be grand.<|im_end|>")


def test_chat_records_label_only_assistant_turns(tokenizer):
    rec = {
        "messages": [
            {"role": "system", "content": "Be a pirate."},
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Ahoy!"},
            {"role": "user", "content": "Boots?"},
            {"role": "assistant", "content": "Aye, boots."},
        ]
    }
    ex = tokenize_supervised(tokenizer, rec, max_seq_len=512)
    trained = tokenizer.decode([t for t, lab in zip(ex["input_ids"], ex["labels"], strict=True) if lab != IGNORE_INDEX])
    assert "Ahoy!" in trained and "Aye, boots." in trained
    assert "Be a pirate" not in trained and "Boots?" not in trained and "Hi" not in trained


def test_packing_raw_text(tokenizer):
    texts = [f"Trail note {i}: the ridge was windy and the creek ran high." for i in range(20)]
    blocks = pack_texts(tokenizer, texts, block_size=32)
    stream = [t for b in blocks for t in b["input_ids"]]
    expected = []
    for t in texts:
        expected += tokenizer(t, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    assert stream == expected  # nothing lost, EOS between documents
    assert all(len(b["input_ids"]) == 32 for b in blocks[:-1])
    assert 0 < len(blocks[-1]["input_ids"]) <= 32
    assert all(b["labels"] == b["input_ids"] for b in blocks)


def test_dataset_errors_name_record_and_field(tmp_path, tiny_model_dir):
    with pytest.raises(DatasetError, match="empty"):
        validate_records([])
    with pytest.raises(DatasetError, match=r"record 2: missing field 'completion'"):
        validate_records([{"prompt": "a", "completion": "b"}] * 2 + [{"prompt": "c"}])
    with pytest.raises(DatasetError, match=r"record 1: missing field 'text'"):
        validate_records([{"text": "a"}, {"body": "b"}])
    with pytest.raises(DatasetError, match=r"record 0: field 'text' must be a string"):
        validate_records([{"text": 3}])
    with pytest.raises(DatasetError, match=r"record 1: .*messages\[0\]\.role"):
        validate_records([{"messages": [{"role": "assistant", "content": "x"}]}, {"messages": [{"role": "bot", "content": "x"}]}])
    with pytest.raises(DatasetError, match=r"record 1: is a text record"):
        validate_records([{"prompt": "a", "completion": "b"}, {"text": "c"}])
    with pytest.raises(DatasetError, match="empty"):
        finetune(tiny_model_dir, [], tiny_params(tmp_path / "o"))
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "ok"}\n\n{"text": broken}\n')
    with pytest.raises(DatasetError, match=r"line 3: invalid JSON"):
        read_records(bad)
    with pytest.raises(DatasetError, match="not found"):
        read_records(tmp_path / "missing.jsonl")


def test_params_validation(tmp_path):
    with pytest.raises(ValueError, match="method"):
        FinetuneParams(output_dir=str(tmp_path), method="qlora")
    with pytest.raises(ValueError, match="output_dir"):
        FinetuneParams()
    with pytest.raises(ValueError, match="validation_fraction"):
        FinetuneParams(output_dir=str(tmp_path), validation_fraction=1.5)
    p = FinetuneParams(output_dir=str(tmp_path), method="full", lora_target_modules="q_proj, v_proj")
    assert p.learning_rate == 2e-5 and p.lora_target_modules == ("q_proj", "v_proj")


# --------------------------------------------------------------------------- training


def test_lora_lowers_validation_loss(lora_run):
    result, _, _ = lora_run
    assert not result.cancelled
    m = result.metrics
    assert m["val_loss"] < m["initial_val_loss"] - 0.3, m
    assert (result.output_dir / "adapter_config.json").is_file()
    assert (result.output_dir / "adapter_model.safetensors").is_file()
    assert (result.output_dir / "tokenizer.json").is_file()
    assert not list(result.output_dir.glob("checkpoint-*"))  # cleaned up after success


def test_progress_callback_reports_increasing_steps(lora_run):
    result, events, _ = lora_run
    train_steps = [e.step for e in events if e.train_loss is not None]
    assert train_steps[:3] == [1, 2, 3]
    assert all(b >= a for a, b in zip(train_steps, train_steps[1:], strict=False))
    assert train_steps[-1] == result.global_step == result.max_steps == 18
    assert all(math.isfinite(e.train_loss) and e.tokens_per_s > 0 for e in events)
    assert events[-1].eta_s == 0 and events[0].eta_s > 0
    assert any(e.val_loss is not None for e in events)
    assert all(e.max_steps == 18 and e.learning_rate is not None for e in events)


def test_metadata_json(lora_run, tiny_model_dir):
    result, _, records = lora_run
    meta = json.loads((result.output_dir / "inkstone.json").read_text())
    canonical = "".join(
        json.dumps(r, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n" for r in records
    )
    assert meta["data_hash"] == hashlib.sha256(canonical.encode()).hexdigest()
    assert meta["format"] == "inkstone.finetune/1"
    assert meta["kind"] == "lora" and meta["status"] == "completed"
    assert meta["base_model"] == str(tiny_model_dir)
    assert meta["num_records"] == 24 and meta["num_val_records"] == 4
    assert meta["params"]["learning_rate"] == 1e-2 and meta["params"]["lora_r"] == 8
    assert meta["params"]["validation_records"] == 4  # a count, not the records
    assert meta["metrics"]["val_loss"] == result.metrics["val_loss"]
    assert meta["metrics"]["global_step"] == 18
    assert {"torch", "transformers", "peft"} <= set(meta["versions"])
    started = datetime.fromisoformat(meta["started_at"])
    assert datetime.fromisoformat(meta["finished_at"]) >= started
    # what finetune() writes is always a model the catalog accepts
    assert describe_model(str(result.output_dir)).metadata["metrics"] == meta["metrics"]


def test_merge_and_export_matches_adapter_logits(lora_run, tiny_model_dir, tmp_path):
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    result, _, _ = lora_run
    merged_dir = merge_and_export(result.output_dir, tmp_path / "merged")
    assert (merged_dir / "model.safetensors").is_file() and (merged_dir / "tokenizer.json").is_file()
    assert read_metadata(merged_dir)["kind"] == "merged"
    tok = AutoTokenizer.from_pretrained(merged_dir)
    ids = tok("Describe our boots, matey.", return_tensors="pt")["input_ids"]
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32)
    adapted = PeftModel.from_pretrained(base, result.output_dir).eval()
    merged = AutoModelForCausalLM.from_pretrained(merged_dir, dtype=torch.float32).eval()
    plain = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32).eval()
    with torch.no_grad():
        a, m, p = adapted(ids).logits, merged(ids).logits, plain(ids).logits
    assert torch.allclose(a, m, atol=1e-4), (a - m).abs().max()
    assert not torch.allclose(m, p, atol=1e-3)  # the adapter actually changed something


def test_full_finetune_runs_and_saves(tiny_model_dir, tmp_path):
    import torch
    from transformers import AutoModelForCausalLM

    out = tmp_path / "full"
    result = finetune(
        tiny_model_dir, synthetic(8), tiny_params(out, method="full", max_steps=3, learning_rate=1e-3, validation_fraction=0)
    )
    assert result.global_step == 3 and not result.cancelled
    assert (out / "model.safetensors").is_file() and (out / "tokenizer.json").is_file()
    assert read_metadata(out)["kind"] == "full"
    assert describe_model(str(out)).kind == "full"  # no validation: null metrics are accepted too
    tuned = AutoModelForCausalLM.from_pretrained(out, dtype=torch.float32)
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32)
    name = "model.layers.0.self_attn.q_proj.weight"
    assert not torch.equal(tuned.state_dict()[name], base.state_dict()[name])


def test_raw_text_finetune(tiny_model_dir, tmp_path):
    texts = [{"text": f"Trail log {i}. The wind rose at dawn and the crew packed the tents."} for i in range(30)]
    result = finetune(tiny_model_dir, texts, tiny_params(tmp_path / "text", max_steps=2, max_seq_len=64))
    meta = read_metadata(result.output_dir)
    assert meta["data_kind"] == "text" and meta["num_train_examples"] >= 2
    assert result.global_step == 2


def test_should_stop_cancels_keeps_checkpoint_and_resume_continues(tiny_model_dir, tmp_path):
    out = tmp_path / "cancel"
    records = synthetic(16)
    params = tiny_params(out, max_steps=6, validation_fraction=0)
    seen = []
    result = finetune(tiny_model_dir, records, params, on_progress=seen.append, should_stop=lambda: len(seen) >= 2)
    # Asked to stop after step 2 was reported: stops at the end of step 3, the one in flight.
    assert result.cancelled and result.global_step == 3
    assert result.checkpoint == out / "checkpoint-3" and result.checkpoint.is_dir()
    assert not (out / "adapter_model.safetensors").exists()  # no half-trained final output
    assert read_metadata(out)["status"] == "cancelled"

    with pytest.raises(GenerationError, match="different data"):
        finetune(tiny_model_dir, synthetic(17), params, resume=True)

    resumed = []
    result2 = finetune(tiny_model_dir, records, params, on_progress=resumed.append, resume=True)
    assert [e.step for e in resumed] == [4, 5, 6]  # from the checkpoint's step, not from 0
    assert not result2.cancelled and result2.global_step == 6
    assert (out / "adapter_model.safetensors").is_file()
    assert read_metadata(out)["status"] == "completed"

    again = []  # a re-delivered task: already done, nothing is trained twice
    result3 = finetune(tiny_model_dir, records, params, on_progress=again.append, resume=True)
    assert again == [] and result3.global_step == 6 and result3.metrics == result2.metrics


def test_resume_after_crash_from_last_saved_checkpoint(tiny_model_dir, tmp_path):
    out = tmp_path / "crash"
    records = synthetic(16)
    params = tiny_params(out, max_steps=6, save_steps=2, validation_fraction=0)

    def crash(ev):
        if ev.step == 5:
            raise RuntimeError("worker killed")

    with pytest.raises(RuntimeError, match="worker killed"):
        finetune(tiny_model_dir, records, params, on_progress=crash)
    assert sorted(p.name for p in out.glob("checkpoint-*")) == ["checkpoint-2", "checkpoint-4"]
    assert read_metadata(out)["status"] == "running"  # a supervisor can tell it never finished

    steps = []
    result = finetune(tiny_model_dir, records, params, on_progress=lambda e: steps.append(e.step), resume=True)
    assert steps == [5, 6] and result.global_step == 6 and not result.cancelled


# --------------------------------------------------------------------------- CLI


def test_cli_evaluate_with_adapter(lora_run, tiny_model_dir, tmp_path, capsys):
    from generation.cli import main

    result, _, _ = lora_run
    data = tmp_path / "val.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in synthetic(28)[24:]))
    assert main(["evaluate", "--data", str(data), "--model", str(tiny_model_dir)]) == 0
    base_ppl = float(capsys.readouterr().out.split("perplexity: ")[1].split()[0])
    args = ["evaluate", "--data", str(data), "--model", str(tiny_model_dir), "--adapter", str(result.output_dir)]
    assert main(args) == 0
    tuned_ppl = float(capsys.readouterr().out.split("perplexity: ")[1].split()[0])
    assert tuned_ppl < base_ppl
    assert math.isclose(math.log(tuned_ppl), result.metrics["val_loss"], rel_tol=1e-3)


def test_cli_finetune_prints_progress_and_metrics(tiny_model_dir, tmp_path, capsys):
    from generation.cli import main

    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in synthetic(8)))
    out = tmp_path / "cli-out"
    rc = main(["finetune", "--data", str(data), "--output", str(out), "--base", str(tiny_model_dir),
               "--max-steps", "2", "--batch-size", "4", "--validation-fraction", "0", "--lora-r", "4"])
    text = capsys.readouterr().out
    assert rc == 0
    assert "step 1/2" in text and "step 2/2" in text and "tok/s" in text
    assert "completed: step 2/2" in text and "metrics: {" in text
    assert read_metadata(out)["params"]["lora_r"] == 4


@pytest.mark.parametrize(
    "content, message",
    [
        ("", "empty"),
        ('{"prompt": "a", "completion": "b"}\n{oops\n', "line 2: invalid JSON"),
        ('{"prompt": "a"}\n', "record 0: missing field 'completion'"),
        (None, "not found"),
    ],
)
def test_cli_finetune_errors_are_one_line(tmp_path, capsys, content, message):
    from generation.cli import main

    data = tmp_path / "d.jsonl"
    if content is not None:
        data.write_text(content)
    rc = main(["finetune", "--data", str(data), "--output", str(tmp_path / "o"), "--base", str(tmp_path)])
    err = capsys.readouterr().err.strip()
    assert rc == 1
    assert err.startswith("error: ") and message in err and "\n" not in err


# --------------------------------------------------------------------------- real model


@pytest.mark.real_model
def test_real_model_lora_steps(default_model_dir, tmp_path):
    records = read_records(VOICE)[:12]
    events = []
    result = finetune(
        default_model_dir,
        records,
        FinetuneParams(output_dir=str(tmp_path / "real"), max_steps=2, batch_size=2, validation_fraction=0),
        on_progress=events.append,
    )
    assert result.global_step == 2 and [e.step for e in events] == [1, 2]
    assert all(math.isfinite(e.train_loss) for e in events)
    assert events[-1].train_loss < 6  # an instruct model on English text: not random
    assert (tmp_path / "real" / "adapter_model.safetensors").is_file()
