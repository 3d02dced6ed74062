"""compare_models / sample_prompts: the evaluation dict a finished run shows (eval-schema)."""

from __future__ import annotations

import json

import pytest

from generation.finetune import FinetuneParams, finetune
from generation.models import ModelSpec, load_model
from generation.training.report import compare_models, sample_prompts

VAL = [{"prompt": f"Describe our boots (item {i}).", "completion": "Ahoy matey! Our boots be grand. Fair winds!"}
       for i in range(4)]
STYLE = ["Ahoy matey! Our tents be grand. Fair winds and dry socks!", "Arr, the maps be true. Fair winds!"]


def test_sample_prompts_are_the_first_openings():
    assert sample_prompts(VAL, n=2) == ["Describe our boots (item 0).", "Describe our boots (item 1)."]
    chat = [{"messages": [{"role": "system", "content": "Be a pirate."}, {"role": "user", "content": "Hi?"},
                          {"role": "assistant", "content": "Ahoy!"}]}]
    assert sample_prompts(chat) == ["Hi?"]
    text = [{"text": "one two three four five six seven eight nine ten eleven twelve thirteen fourteen"}]
    assert sample_prompts(text) == ["one two three four five six seven eight nine ten eleven twelve"]


def check_schema(ev: dict, n_prompts: int) -> None:
    json.dumps(ev)  # JSON-safe
    assert set(ev) >= {"before", "after", "improved", "change", "seed", "max_new_tokens", "val_records", "samples",
                       "style_fit", "reading_grade", "seconds"}
    assert set(ev["before"]) == set(ev["after"]) == {"val_loss", "perplexity"}
    assert len(ev["samples"]) == n_prompts
    for s in ev["samples"]:
        assert set(s) == {"prompt", "base", "tuned", "base_style_fit", "tuned_style_fit", "base_grade", "tuned_grade"}
    assert ev["improved"] == (ev["after"]["perplexity"] < ev["before"]["perplexity"])
    assert ev["change"] == pytest.approx(ev["after"]["perplexity"] / ev["before"]["perplexity"] - 1, abs=1e-3)


def test_compare_lora_adapter_on_tiny_model(tiny_model_dir, tiny_lora_dir):
    base = load_model(ModelSpec(str(tiny_model_dir), dtype="float32"))
    before_alone = compare_models(f"{tiny_model_dir}?dtype=float32", tiny_lora_dir, VAL, prompts=sample_prompts(VAL, 2), seed=7,
                                  style_examples=STYLE, max_new_tokens=12)
    ev = compare_models(tiny_model_dir, tiny_lora_dir, VAL, prompts=sample_prompts(VAL, 2), seed=7,
                        style_examples=STYLE, max_new_tokens=12, loaded_base=base)
    check_schema(ev, 2)
    assert ev["seed"] == 7 and ev["max_new_tokens"] == 12 and ev["val_records"] == 4
    assert ev["before"] != ev["after"]  # the adapter changes the model
    assert ev["before"] == before_alone["before"]  # same base, loaded here or given
    assert [s["base"] for s in ev["samples"]] == [s["base"] for s in before_alone["samples"]]  # same seed, same text
    assert any(s["base"] != s["tuned"] for s in ev["samples"])
    assert all(0 <= s["base_style_fit"] <= 1 for s in ev["samples"] if s["base"])
    assert not hasattr(base.model, "peft_config")  # the given base model is left as it was
    again = compare_models(tiny_model_dir, tiny_lora_dir, VAL, prompts=["Hi"], seed=7, loaded_base=base)
    assert again["before"] == ev["before"]
    assert again["style_fit"] == {"base": None, "tuned": None}  # no style examples


def test_compare_full_finetune_learns(tiny_model_dir, tmp_path):
    out = tmp_path / "full"
    train = [{"prompt": f"Describe our boots (item {i}).", "completion": "Ahoy matey! Our boots be grand. Fair winds!"}
             for i in range(4, 20)]
    finetune(tiny_model_dir, train, FinetuneParams(output_dir=str(out), method="full", learning_rate=1e-2, epochs=2,
                                                   batch_size=8, validation_fraction=0, save_steps=100))
    ev = compare_models(f"{tiny_model_dir}?dtype=float32", out, VAL, prompts=sample_prompts(VAL, 1), seed=3, max_new_tokens=8,
                        style_examples=[r["completion"] for r in train])
    check_schema(ev, 1)
    assert ev["improved"] is True and ev["change"] < -0.5


@pytest.mark.real_model
def test_compare_on_default_model(default_model_dir, tmp_path):
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(default_model_dir, dtype=torch.float32)
    config = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], init_lora_weights=False,
                        task_type="CAUSAL_LM")
    adapter = tmp_path / "adapter"
    get_peft_model(model, config).save_pretrained(adapter)
    (adapter / "inkstone.json").write_text(json.dumps({"kind": "lora", "base_model": str(default_model_dir)}))
    ev = compare_models(str(default_model_dir), adapter, VAL[:2], prompts=sample_prompts(VAL, 1), seed=11,
                        style_examples=STYLE, max_new_tokens=16)
    check_schema(ev, 1)
    sample = ev["samples"][0]
    assert sample["base"] and sample["tuned"] and sample["base_grade"] is not None
    assert 0 < ev["before"]["perplexity"] < 1000  # a real model on English text
