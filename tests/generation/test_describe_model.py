"""describe_model: what an admin registers as a model is checked without loading weights."""

import json
from pathlib import Path

import pytest

from generation.errors import InvalidModelError, ModelNotFoundError
from generation.models import ModelSpec, describe_model, load_model, local_path


def test_a_model_directory_is_described_with_an_absolute_path(tiny_model_dir, monkeypatch):
    monkeypatch.chdir(tiny_model_dir.parent)
    info = describe_model(tiny_model_dir.name)
    assert info.kind == "model" and info.source == info.spec == str(tiny_model_dir.resolve())
    assert info.base == ""


def test_a_lora_adapter_loads_over_its_recorded_base(tiny_lora_dir, tiny_model_dir):
    info = describe_model(str(tiny_lora_dir))
    assert info.kind == "lora" and info.base == str(tiny_model_dir)
    assert info.metadata["metrics"]["val_loss"] == 2.5
    spec = ModelSpec.parse(info.spec)
    assert spec.source == str(tiny_model_dir) and spec.adapters == (str(tiny_lora_dir),)
    loaded = load_model(info.spec)
    assert loaded.adapter_names and loaded.name.endswith(tiny_lora_dir.name)


def test_the_bundled_model_is_default():
    assert describe_model("default").kind == "default"


@pytest.mark.parametrize("make, error, message", [
    (lambda d: d / "nope", ModelNotFoundError, "model not found"),
    (lambda d: _write(d / "notes.txt", b"hello"), InvalidModelError, "not a .gguf model"),
    (lambda d: _write(d / "broken.gguf", b"PK\x03\x04zip"), InvalidModelError, "bad magic bytes"),
    (lambda d: (d / "empty").mkdir() or d / "empty", InvalidModelError, "no config.json or adapter_config.json"),
    (lambda d: _write(d / "m" / "config.json", b"{not json"), InvalidModelError, "config.json is not valid JSON"),
    (lambda d: _write(d / "m" / "config.json", b'{"hidden_size": 4}'), InvalidModelError, "has no model_type"),
    (lambda d: _write(d / "a" / "adapter_config.json", b"{}"), InvalidModelError, "does not name its base model"),
])
def test_what_is_not_a_model_is_refused_in_one_line(tmp_path, make, error, message):
    target = make(tmp_path)
    path = target.parent if target.name.endswith(".json") else target
    with pytest.raises(error, match=message) as caught:
        describe_model(str(path))
    assert "\n" not in str(caught.value)


def test_a_hub_id_outside_the_local_cache_is_refused(monkeypatch, tmp_path):
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path))  # an empty cache
    with pytest.raises(ModelNotFoundError, match="nor in the local Hugging Face cache"):
        describe_model("someone/not-downloaded")


def test_an_adapter_over_an_adapter_is_refused(tiny_lora_dir, tmp_path):
    nested = tmp_path / "nested"
    nested.mkdir()
    (nested / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": str(tiny_lora_dir)}))
    with pytest.raises(InvalidModelError, match="is itself a LoRA adapter"):
        describe_model(str(nested))


def _write(path, data: bytes):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_an_adapter_naming_itself_as_its_base_is_refused(tmp_path):
    loop = tmp_path / "loop"
    loop.mkdir()
    (loop / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": str(loop)}))
    with pytest.raises(InvalidModelError, match="is itself a LoRA adapter"):
        describe_model(str(loop))


def test_paths_that_would_break_a_spec_are_refused(tmp_path):
    odd = _write(tmp_path / "model?dtype=float16" / "config.json", b'{"model_type": "llama"}').parent
    with pytest.raises(InvalidModelError, match="cannot contain"):
        describe_model(str(odd))


def test_local_path_tells_paths_from_hub_ids(tiny_model_dir):
    assert local_path("default") is None and local_path("HuggingFaceTB/SmolLM2-135M") is None
    assert local_path(str(tiny_model_dir)) == tiny_model_dir.resolve()
    assert local_path("/no/such/model") == Path("/no/such/model")
