"""Model specs, loading errors, the default model cache and ModelCache (LRU, shared adapters)."""

import os

import pytest

from generation.errors import InvalidModelError, ModelNotFoundError
from generation.models import (
    DEFAULT_MODEL_NAME,
    ModelCache,
    ModelSpec,
    choose_dtype,
    ensure_default_model,
    load_model,
    resolve_model_dir,
)
from generation.streaming import GenerationParams, generate


def test_spec_defaults_validation_and_parse():
    assert ModelSpec() == ModelSpec("default", "auto", "auto", ())
    assert ModelSpec(adapters=["a", "b"]).adapters == ("a", "b")
    spec = ModelSpec.parse("/m/x.gguf?dtype=bfloat16&device=cuda:1&adapter=/a&adapter=/b")
    assert spec == ModelSpec("/m/x.gguf", "bfloat16", "cuda:1", ("/a", "/b"))
    assert ModelSpec.parse(str(spec)) == spec
    assert ModelSpec.parse("") == ModelSpec()
    for bad in ({"dtype": "int8"}, {"device": "tpu"}, {"source": ""}, {"adapters": ("",)}):
        with pytest.raises(ValueError):
            ModelSpec(**bad)
    with pytest.raises(ValueError):
        ModelSpec.parse("default?speed=fast")


def test_cpu_dtype_choice_and_env_override(monkeypatch):
    monkeypatch.setenv("INKSTONE_CPU_DTYPE", "bfloat16")
    assert choose_dtype("auto", "cpu") == "bfloat16"
    assert choose_dtype("float32", "cpu") == "float32"
    monkeypatch.delenv("INKSTONE_CPU_DTYPE")
    assert choose_dtype("auto", "cpu") in ("float32", "bfloat16")


def test_load_tiny_model(tiny_model_dir):
    loaded = load_model(ModelSpec(str(tiny_model_dir), dtype="float32", device="cpu"))
    assert not loaded.model.training
    assert loaded.tokenizer.pad_token is not None
    assert loaded.dtype == "float32" and loaded.device == "cpu"
    assert 0 < loaded.parameters < 5_000_000
    assert loaded.load_seconds > 0 and loaded.name == tiny_model_dir.name
    assert resolve_model_dir(str(tiny_model_dir)) == tiny_model_dir


def _one_line(exc_info) -> str:
    message = str(exc_info.value)
    assert "\n" not in message
    return message


def test_missing_path_names_the_path(tmp_path):
    missing = tmp_path / "nope" / "model.gguf"
    with pytest.raises(ModelNotFoundError) as info:
        load_model(str(missing))
    assert str(missing) in _one_line(info)


def test_corrupt_gguf_is_invalid_and_leaves_no_cache(tmp_path):
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"GGUF" + os.urandom(64))
    cache = tmp_path / "models"
    with pytest.raises(InvalidModelError) as info:
        load_model(str(bad), cache_dir=cache)
    assert "broken.gguf" in _one_line(info)
    assert not cache.exists() or list(cache.iterdir()) == []


def test_directory_without_config_is_invalid(tmp_path):
    with pytest.raises(InvalidModelError) as info:
        load_model(str(tmp_path))
    assert "config.json" in _one_line(info)


def test_hub_id_not_in_local_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(ModelNotFoundError) as info:
        load_model("HuggingFaceTB/not-a-cached-model")
    message = _one_line(info)
    assert "local" in message and "hub downloads are off" in message


def test_model_cache_evicts_least_recently_used(tiny_model_dir):
    fp32 = ModelSpec(str(tiny_model_dir), dtype="float32", device="cpu")
    bf16 = ModelSpec(str(tiny_model_dir), dtype="bfloat16", device="cpu")
    one = ModelCache(max_bytes=1 << 40).get(fp32).nbytes
    cache = ModelCache(max_bytes=int(one * 1.2))  # room for one fp32 model (or fp32 + nothing)
    a = cache.get(fp32)
    assert cache.get(fp32) is a and cache.base_loads == 1
    cache.get(bf16)
    assert len(cache.keys()) == 1 and cache.keys()[0][1] == "bfloat16"
    cache.get(fp32)
    assert cache.base_loads == 3


@pytest.fixture(scope="module")
def two_adapters(tiny_model_dir, tmp_path_factory):
    """Two random (non-zero) LoRA adapters for the tiny model, saved as peft directories."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    dirs = []
    for seed in (1, 2):
        torch.manual_seed(seed)
        base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
        config = LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
        model = get_peft_model(base, config)
        out = tmp_path_factory.mktemp(f"adapter{seed}")
        model.save_pretrained(out)
        dirs.append(str(out))
    return dirs


def test_adapters_share_one_base_model(tiny_model_dir, two_adapters):
    cache = ModelCache()
    base_spec = ModelSpec(str(tiny_model_dir), dtype="float32", device="cpu")
    a = cache.get(ModelSpec(**{**base_spec.__dict__, "adapters": (two_adapters[0],)}))
    b = cache.get(ModelSpec(**{**base_spec.__dict__, "adapters": (two_adapters[1],)}))
    base = cache.get(base_spec)
    assert cache.base_loads == 1
    assert a.model is b.model is base.model
    params = GenerationParams(max_new_tokens=8, temperature=0)
    texts = [generate(m, prompt="Once upon a time", params=params).token_ids for m in (a, b, base)]
    assert len({tuple(t) for t in texts}) == 3, "each view must use its own adapter"
    again = generate(a, prompt="Once upon a time", params=params).token_ids
    assert again == texts[0]
    with pytest.raises(ModelNotFoundError):
        cache.get(ModelSpec(**{**base_spec.__dict__, "adapters": ("/no/such/adapter",)}))


@pytest.mark.real_model
def test_default_model_cache_and_load(default_model_dir):
    assert (default_model_dir / "model.safetensors").is_file()
    assert (default_model_dir / "tokenizer.json").is_file()
    again = ensure_default_model(default_model_dir.parent)
    assert not again.converted and again.cache_dir == default_model_dir
    loaded = load_model(ModelSpec(str(default_model_dir), dtype="float32"))
    assert loaded.parameters == 134_515_008
    assert loaded.tokenizer.chat_template
    assert DEFAULT_MODEL_NAME.startswith("SmolLM2")
