"""The one definition of the sampling parameters: name, type, default, range and help.

`GenerationParams` validates against it, the command line derives its flags from it, and the
platform derives its forms and API serializers from it (`platform/core/sampling.py`), so a range
can only ever be stated here. A deployment may lower `max_new_tokens` further (the platform's
INKSTONE_MAX_NEW_TOKENS), never raise it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

SEED_MAX = 2**32 - 1  # what every backend accepts as a seed (torch, llama.cpp, numpy)
STOP_MAX_COUNT = 8
STOP_MAX_CHARS = 100


@dataclass(frozen=True)
class ParamSpec:
    """One sampling parameter. `minimum`/`maximum` are inclusive."""

    name: str
    type: type  # int or float
    default: int | float
    minimum: int | float
    maximum: int | float
    label: str
    help: str

    def problem(self, value, *, maximum: int | float | None = None) -> str | None:
        """Why `value` is not acceptable (one line naming the parameter), or None when it is."""
        top = self.maximum if maximum is None else min(self.maximum, maximum)
        kind = "a whole number" if self.type is int else "a number"
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"{self.name} must be {kind} between {self.minimum} and {top}"
        if self.type is int and not isinstance(value, int):
            return f"{self.name} must be a whole number between {self.minimum} and {top}"
        if isinstance(value, float) and not math.isfinite(value):
            return f"{self.name} must be a finite number between {self.minimum} and {top}"
        if not self.minimum <= value <= top:
            limit = " (this server's limit)" if top < self.maximum else ""
            return f"{self.name} must be between {self.minimum} and {top}{limit}, not {value}"
        return None


SAMPLING_PARAMS: tuple[ParamSpec, ...] = (
    ParamSpec("temperature", float, 0.7, 0.0, 2.0, "Temperature",
              "Randomness: 0 always picks the likeliest word; around 0.7 reads naturally."),
    ParamSpec("top_p", float, 0.9, 0.05, 1.0, "Top-p",
              "Sample only among the likeliest words that together make up this probability."),
    ParamSpec("top_k", int, 50, 0, 200, "Top-k",
              "Sample only among this many likeliest words (0: no limit)."),
    ParamSpec("max_new_tokens", int, 256, 1, 8192, "Length limit (tokens)",
              "Stop after this many tokens (a token is about three quarters of a word)."),
    ParamSpec("min_new_tokens", int, 0, 0, 8192, "Minimum length (tokens)",
              "Keep writing at least this many tokens (at most the length limit)."),
    ParamSpec("repetition_penalty", float, 1.1, 1.0, 2.0, "Repetition penalty",
              "Above 1 discourages repeating words already written; 1 is off."),
)
PARAMS_BY_NAME = {spec.name: spec for spec in SAMPLING_PARAMS}
SEED = ParamSpec("seed", int, 0, 0, SEED_MAX, "Seed", "Same seed, same settings: same text.")


def params_problems(values: dict, *, max_new_tokens: int | None = None) -> dict[str, str]:
    """{name: problem} for unknown names and out-of-range values of a partial parameter dict;
    `max_new_tokens` lowers that parameter's ceiling (a deployment's limit)."""
    problems = {}
    for name, value in values.items():
        spec = PARAMS_BY_NAME.get(name)
        if spec is None:
            known = ", ".join(PARAMS_BY_NAME)
            problems[name] = f"unknown parameter {name!r} (known: {known})"
            continue
        ceiling = max_new_tokens if name in ("max_new_tokens", "min_new_tokens") else None
        problem = spec.problem(value, maximum=ceiling)
        if problem:
            problems[name] = problem
    low, high = values.get("min_new_tokens"), values.get("max_new_tokens")
    if not problems and low is not None and low > (high if high is not None else PARAMS_BY_NAME["max_new_tokens"].default):
        problems["min_new_tokens"] = "min_new_tokens must not exceed max_new_tokens"
    return problems


@dataclass
class GenerationParams:
    """Sampling parameters of one request. temperature == 0 means greedy decoding.

    Defaults and ranges come from SAMPLING_PARAMS; an out-of-range value raises ValueError with
    one line naming the parameter.
    """

    max_new_tokens: int = PARAMS_BY_NAME["max_new_tokens"].default
    temperature: float = PARAMS_BY_NAME["temperature"].default
    top_p: float = PARAMS_BY_NAME["top_p"].default
    top_k: int = PARAMS_BY_NAME["top_k"].default
    repetition_penalty: float = PARAMS_BY_NAME["repetition_penalty"].default
    seed: int | None = None
    stop: tuple[str, ...] = ()
    min_new_tokens: int = PARAMS_BY_NAME["min_new_tokens"].default  # benchmarks force lengths

    def __post_init__(self) -> None:
        if isinstance(self.stop, str):
            self.stop = (self.stop,)
        self.stop = tuple(self.stop)
        values = {spec.name: getattr(self, spec.name) for spec in SAMPLING_PARAMS}
        problems = params_problems(values)
        if self.seed is not None and (problem := SEED.problem(self.seed)):
            problems["seed"] = problem
        if len(self.stop) > STOP_MAX_COUNT or not all(
            isinstance(s, str) and 0 < len(s) <= STOP_MAX_CHARS for s in self.stop
        ):
            problems["stop"] = (f"stop: at most {STOP_MAX_COUNT} sequences of 1 to {STOP_MAX_CHARS} characters")
        if problems:
            raise ValueError("; ".join(problems.values()))

    @property
    def greedy(self) -> bool:
        return self.temperature == 0
