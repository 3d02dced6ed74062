"""Shared fixtures for generation tests.

`tiny_model_dir`: a tiny randomly initialised Llama (hidden 64, 2 layers, 4 heads) saved as a HF
directory with the real SmolLM2 tokenizer (so Chinese/emoji become multi-token byte pieces).
`default_model_dir`: the real default model's safetensors cache. Both are session-scoped; keep
their names and signatures stable (the fine-tuning/evaluation tests use them too).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def _valid_default_cache(models: Path) -> Path | None:
    from generation.models import (
        DEFAULT_CACHE_NAME,
        _cache_is_valid,
        _gguf_fingerprint,
        find_default_gguf,
    )

    target = models / DEFAULT_CACHE_NAME
    if _cache_is_valid(target, _gguf_fingerprint(find_default_gguf())):
        return target
    return None


@pytest.fixture(scope="session")
def smollm2_tokenizer_dir(tmp_path_factory) -> Path:
    """A directory holding only the SmolLM2 tokenizer (from the default cache, else the GGUF)."""
    from transformers import AutoTokenizer

    from generation.models import default_models_dir, find_default_gguf

    cached = _valid_default_cache(default_models_dir())
    if cached is not None:
        tokenizer = AutoTokenizer.from_pretrained(cached)
    else:
        gguf = find_default_gguf()
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    out = tmp_path_factory.mktemp("smollm2-tokenizer")
    tokenizer.save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, smollm2_tokenizer_dir) -> Path:
    """Path to a saved tiny random Llama (seeded) + SmolLM2 tokenizer; loads in ~0.1 s."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(smollm2_tokenizer_dir)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=1024,
        tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(0)
    model = LlamaForCausalLM(config).eval()
    out = tmp_path_factory.mktemp("tiny-llama")
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def default_model_dir(tmp_path_factory) -> Path:
    """The real default model as a safetensors HF directory.

    Uses INKSTONE_DATA_DIR's cache when that is set (converting there if needed), reuses a valid
    `var/models` cache, and otherwise converts the GGUF once into a session temp dir (~25 s).
    """
    from generation.models import default_models_dir, ensure_default_model

    if os.environ.get("INKSTONE_DATA_DIR"):
        return ensure_default_model().cache_dir
    cached = _valid_default_cache(default_models_dir())
    if cached is not None:
        return cached
    return ensure_default_model(tmp_path_factory.mktemp("models")).cache_dir


@pytest.fixture(scope="session")
def tiny_lora_dir(tmp_path_factory, tiny_model_dir) -> Path:
    """A LoRA adapter over the tiny model, randomly initialised (so it changes the output), with
    the inkstone.json a fine-tune writes."""
    import json

    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(1)
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32)
    config = LoraConfig(r=4, lora_alpha=16, target_modules=["q_proj", "v_proj"], init_lora_weights=False, task_type="CAUSAL_LM")
    out = tmp_path_factory.mktemp("tiny-lora")
    get_peft_model(base, config).save_pretrained(out)
    metadata = {"format": 1, "kind": "lora", "base_model": str(tiny_model_dir), "data_hash": "sha256:abc123",
                "num_records": 40, "params": {"method": "lora", "epochs": 1}, "metrics": {"val_loss": 2.5, "train_loss": 2.9}}
    (out / "inkstone.json").write_text(json.dumps(metadata))
    return out
