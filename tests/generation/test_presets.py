"""plan_training: presets chosen from the data, with reasons and estimates (tiny model's tokenizer)."""

from __future__ import annotations

import json
import time

import pytest

from generation.finetune import FinetuneParams
from generation.training.presets import PRESETS, plan_training

SHORT = [{"text": f"Fortune {i}: a gift of a flower will soon be made to you."} for i in range(184)]
LONG = [{"text": " ".join(f"Chapter {i}, line {j}: the ridge was windy and the creek ran high." for j in range(40))}
        for i in range(184)]


@pytest.fixture(scope="module")
def tokenizer(tiny_model_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_model_dir)


@pytest.fixture(scope="module")
def config(tiny_model_dir):
    return json.loads((tiny_model_dir / "config.json").read_text())


def test_short_texts_get_one_example_each_and_many_updates(tokenizer):
    plan = plan_training(SHORT, tokenizer=tokenizer, preset="quick")
    assert plan.params["pack"] is False
    assert plan.examples == plan.train_records == 166 and plan.val_records == 18
    assert plan.optimizer_steps >= 20  # packing would have left ~2
    assert plan.reasons[0].startswith("166 short texts (median ")
    assert "no packing" in plan.reasons[0] and "instead of 1." in plan.reasons[0]


def test_long_texts_are_packed_and_plan_differs(tokenizer):
    short = plan_training(SHORT, tokenizer=tokenizer, preset="quick")
    long = plan_training(LONG, tokenizer=tokenizer, preset="quick")
    assert long.params["pack"] is True and "packed into 512-token blocks" in long.reasons[0]
    assert long.stats["median_tokens"] > short.stats["median_tokens"]
    assert long.reasons != short.reasons
    assert long.optimizer_steps != short.optimizer_steps
    assert long.tokens > short.tokens


def test_small_instruction_set_gets_smaller_batches(tokenizer):
    records = [{"prompt": f"Describe item {i}.", "completion": "Ahoy! It be grand. Fair winds!"} for i in range(48)]
    assert plan_training(records, tokenizer=tokenizer, preset="quick").params["batch_size"] == 8  # 6 updates
    records = records[:24]  # batches of 8 would leave 3 updates
    plan = plan_training(records, tokenizer=tokenizer, preset="quick")
    assert plan.params["batch_size"] == 4 and plan.params["pack"] is False
    assert any("small dataset" in r for r in plan.reasons)
    balanced = plan_training(records, tokenizer=tokenizer, preset="balanced")
    assert balanced.optimizer_steps > plan.optimizer_steps


def test_overrides_win_and_are_named(tokenizer):
    plan = plan_training(SHORT, tokenizer=tokenizer, overrides={"learning_rate": 1e-5, "batch_size": 2, "epochs": 3})
    assert plan.params["learning_rate"] == 1e-5 and plan.params["batch_size"] == 2
    assert any(r.startswith("You set learning_rate = 1e-05 (the quick preset would use") for r in plan.reasons)
    assert plan.optimizer_steps == 3 * 83  # 166 texts, batch 2, 3 epochs
    FinetuneParams(output_dir="x", **plan.params)  # the params are FinetuneParams arguments
    with pytest.raises(ValueError, match="unknown training setting 'lerning_rate'"):
        plan_training(SHORT, tokenizer=tokenizer, overrides={"lerning_rate": 1})
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        plan_training(SHORT, tokenizer=tokenizer, overrides={"batch_size": 0})


def test_estimates_present(tokenizer, config):
    plan = plan_training(SHORT, tokenizer=tokenizer, tokens_per_s=100.0, model_config=config)
    out = plan.to_json()
    for key in ("params", "reasons", "train_records", "val_records", "examples", "tokens", "optimizer_steps",
                "memory_bytes", "seconds", "rough_seconds"):
        assert key in out
    json.dumps(out)
    assert plan.memory_bytes > 0 and plan.rough_seconds > 0
    assert plan.seconds == pytest.approx(plan.tokens / 100.0, abs=0.1)
    assert any("rough" not in r and "100 tokens/s" in r for r in plan.reasons)
    bare = plan_training(SHORT, tokenizer=tokenizer)
    assert bare.seconds is None and bare.memory_bytes is None and bare.rough_seconds is None
    guessed = plan_training(SHORT, tokenizer=tokenizer, model_parameters=135_000_000)
    assert guessed.rough_seconds > 0 and guessed.memory_bytes > 135_000_000 * 4
    assert any("(rough:" in r for r in guessed.reasons)


def test_bad_preset_names_the_choices(tokenizer):
    with pytest.raises(ValueError, match="preset must be one of quick, balanced, thorough, not 'fast'"):
        plan_training(SHORT, tokenizer=tokenizer, preset="fast")
    assert PRESETS == ("quick", "balanced", "thorough")


def test_plan_is_fast_for_a_thousand_records(tokenizer):
    records = [{"text": f"Short text number {i}, with a few more words in it."} for i in range(1000)]
    plan_training(records[:10], tokenizer=tokenizer)  # warm up
    t0 = time.perf_counter()
    plan_training(records, tokenizer=tokenizer)
    assert time.perf_counter() - t0 < 1.0
    supervised = [{"prompt": f"Question {i}?", "completion": f"Answer {i}, in a sentence."} for i in range(1000)]
    t0 = time.perf_counter()
    plan_training(supervised, tokenizer=tokenizer)
    assert time.perf_counter() - t0 < 1.0
