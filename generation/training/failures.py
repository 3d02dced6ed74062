"""Why a training run failed, in one line a user understands (shown on the run's page)."""

from __future__ import annotations

from generation.errors import (
    DatasetError,
    GenerationError,
    InvalidModelError,
    ModelNotFoundError,
    TrainingDiverged,
)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0].strip() if text else ""


def _is_out_of_memory(exc: BaseException) -> bool:
    # torch.OutOfMemoryError (alias torch.cuda.OutOfMemoryError) is matched by name so that
    # explaining an error never imports torch.
    if isinstance(exc, MemoryError) or any(c.__name__ == "OutOfMemoryError" for c in type(exc).__mro__):
        return True
    return "out of memory" in str(exc).lower()


def explain(exc: BaseException) -> str:
    """One plain sentence for a training failure: what happened and what to try."""
    detail = _first_line(exc)
    if _is_out_of_memory(exc):
        where = "GPU" if "cuda" in str(exc).lower() or type(exc).__name__ == "OutOfMemoryError" else "the machine's"
        return (
            f"Out of memory: the model and one batch do not fit in {where} memory. Try a smaller batch "
            "size, a shorter maximum sequence length, or LoRA instead of a full fine-tune."
        )
    if isinstance(exc, TrainingDiverged):
        if exc.step is None:
            return f"Training went unstable ({detail}). Try a lower learning rate."
        rate = f" with learning rate {exc.learning_rate:g}" if exc.learning_rate else ""
        return (
            f"Training went unstable: the loss became {exc.loss} at step {exc.step}{rate}, so it "
            "stopped. Try a lower learning rate."
        )
    if isinstance(exc, DatasetError):
        return f"The dataset cannot be used for training: {detail}."
    if isinstance(exc, (ModelNotFoundError, InvalidModelError)):
        return f"The base model cannot be loaded: {detail}."
    if isinstance(exc, FileNotFoundError):
        return f"A file the run needs is missing: {detail}."
    if isinstance(exc, GenerationError) and detail:  # our own messages are written for people already
        return detail[0].upper() + detail[1:] + ("" if detail.endswith(".") else ".")
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__


__all__ = ["explain"]
