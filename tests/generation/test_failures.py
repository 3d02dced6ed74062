"""explain(): one plain line for each way a training run fails."""

from __future__ import annotations

import pytest

from generation.errors import DatasetError, InvalidModelError, ModelNotFoundError, TrainingDiverged
from generation.finetune import FinetuneParams, finetune, read_metadata
from generation.training.failures import explain


def test_out_of_memory_variants():
    import torch

    for exc in (torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"),
                RuntimeError("CUDA out of memory.\nTried to allocate 20 MiB"), MemoryError()):
        line = explain(exc)
        assert line.startswith("Out of memory") and "smaller batch size" in line and "\n" not in line
    assert "GPU" in explain(torch.OutOfMemoryError("x")) and "machine's" in explain(MemoryError())


def test_nan_loss_stops_training_with_a_lower_learning_rate_hint(tiny_model_dir, tmp_path):
    records = [{"prompt": f"Say hi {i}.", "completion": "Hi there, friend!"} for i in range(16)]
    # lr 1e6 only saturates the tiny model's loss at ln(vocab); 1e30 overflows the weights.
    params = FinetuneParams(output_dir=str(tmp_path / "nan"), method="full", learning_rate=1e30, max_steps=8, batch_size=4,
                            max_grad_norm=0, validation_fraction=0, save_steps=1)
    with pytest.raises(TrainingDiverged) as info:
        finetune(tiny_model_dir, records, params)
    exc = info.value
    assert exc.step is not None and exc.step < 8
    line = explain(exc)
    assert line.startswith("Training went unstable: the loss became ") and "Try a lower learning rate." in line
    assert "learning rate 1e+30" in line
    meta = read_metadata(tmp_path / "nan")
    assert meta["status"] == "failed" and "lower learning rate" in meta["error"]
    assert not (tmp_path / "nan" / "adapter_model.safetensors").exists()


def test_empty_dataset(tiny_model_dir, tmp_path):
    with pytest.raises(DatasetError) as info:
        finetune(tiny_model_dir, [], FinetuneParams(output_dir=str(tmp_path / "e")))
    assert explain(info.value) == "The dataset cannot be used for training: the dataset is empty: no records."
    cut = [{"prompt": "word " * 200, "completion": "answer"}] * 4
    with pytest.raises(DatasetError) as info:
        finetune(tiny_model_dir, cut, FinetuneParams(output_dir=str(tmp_path / "c"), max_seq_len=16,
                                                    validation_fraction=0))
    assert "no training examples left" in explain(info.value)


def test_missing_base_model(tmp_path):
    with pytest.raises((ModelNotFoundError, InvalidModelError)) as info:
        finetune(str(tmp_path / "nowhere"), [{"text": "hello there"}] * 4,
                 FinetuneParams(output_dir=str(tmp_path / "o"), validation_fraction=0))
    line = explain(info.value)
    assert line.startswith("The base model cannot be loaded: ") and "nowhere" in line


def test_other_errors_name_type_and_first_line():
    assert explain(ValueError("bad value\nsecond line")) == "ValueError: bad value"
    assert explain(KeyError()) == "KeyError"


def test_lora_target_modules_the_model_lacks(tiny_model_dir, tmp_path):
    """The message names the problem in words, without a Python class name in front."""
    from generation.errors import GenerationError

    records = [{"prompt": f"Say hi {i}.", "completion": "Hi there, friend!"} for i in range(8)]
    params = FinetuneParams(output_dir=str(tmp_path / "t"), lora_target_modules="nope", max_steps=1, validation_fraction=0)
    with pytest.raises(GenerationError) as info:
        finetune(tiny_model_dir, records, params)
    line = explain(info.value)
    assert line.startswith("Cannot apply LoRA: ") and "nope" in line and "GenerationError" not in line

