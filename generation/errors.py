"""Errors with messages meant for people: one line that names the problem."""


class GenerationError(Exception):
    """Base class; the CLI prints `error: <message>` and exits 1 for these."""


class ModelNotFoundError(GenerationError):
    """A model path, GGUF file or hub id that is not there (or not in the local cache)."""


class InvalidModelError(GenerationError):
    """Something is there but cannot be loaded as a model (a corrupt GGUF, a bad config)."""


class DatasetError(GenerationError):
    """Training or evaluation data that cannot be used (empty, wrong shape)."""


class TrainingDiverged(GenerationError):
    """The training loss became NaN or infinite; training stopped (a lower learning rate helps)."""

    def __init__(self, message: str, *, step: int | None = None, loss: float | None = None,
                 learning_rate: float | None = None) -> None:
        super().__init__(message)
        self.step, self.loss, self.learning_rate = step, loss, learning_rate


class CancelledError(GenerationError):
    """Raised where a caller asked to stop and there is nothing to return."""


class PromptTooLongError(GenerationError):
    """The prompt leaves no room in the model's context for the answer."""


def quoted(text: str, limit: int = 200) -> str:
    """What a user typed, for a message: quoted, control characters escaped, long text cut."""
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")
