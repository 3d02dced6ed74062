"""Streaming text generation on a LoadedModel.

`stream_generate(loaded, messages=..., params=...)` returns a `TextStream`: iterate it for text
pieces as they decode, then read `.result` (a `GenerationResult` with finish reason and usage).

How it works: `model.generate` runs in a background thread with greedy decoding switched on and
one logits processor of ours (`_RowProcessor`) that does the per-request work instead of
transformers' warpers: repetition penalty, temperature/top-k/top-p sampling with a per-request
`torch.Generator` (same seed => same text, independent of other requests in a batch and of the
global RNG), and keeping EOS away until `min_new_tokens`. It leaves only the chosen token finite,
so generate's argmax picks it. A per-row StoppingCriteria ends a row within one token of a cancel
or a stop sequence; a BaseStreamer hands each row's new token ids to that row's queue. The
consumer decodes incrementally, holding back incomplete UTF-8 tails (U+FFFD) and text that may be
the start of a stop sequence. The same row machinery serves batches (generation/batching.py).
"""

from __future__ import annotations

import queue
import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from generation.errors import GenerationError, PromptTooLongError
from generation.params import SEED_MAX, GenerationParams

FINISH_REASONS = ("length", "stop", "eos", "cancelled")


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    time_to_first_token_s: float | None = None
    tokens_per_s: float = 0.0
    total_s: float = 0.0


@dataclass
class GenerationResult:
    text: str
    finish_reason: str  # length | stop | eos | cancelled
    usage: Usage
    token_ids: list[int] = field(default_factory=list)
    seed: int | None = None


StopSignal = Callable[[], bool] | threading.Event | None


def _stop_callable(should_stop: StopSignal) -> Callable[[], bool]:
    if should_stop is None:
        return lambda: False
    if isinstance(should_stop, threading.Event):
        return should_stop.is_set
    return should_stop


# --------------------------------------------------------------------------- context


def context_length(loaded) -> int | None:
    """How many tokens (prompt + answer) the model attends to, when its config says."""
    config = getattr(getattr(loaded, "model", None), "config", None)
    value = getattr(config, "max_position_embeddings", None)
    return value if isinstance(value, int) and value > 0 else None


def fit_to_context(loaded, prompt_ids: Sequence[int], params: GenerationParams) -> GenerationParams:
    """The params with `max_new_tokens` lowered so that prompt + answer fit the model's context;
    raises PromptTooLongError when the prompt alone leaves (almost) no room."""
    from dataclasses import replace

    limit = context_length(loaded)
    if limit is None or len(prompt_ids) + params.max_new_tokens <= limit:
        return params
    room = limit - len(prompt_ids)
    if room < max(1, params.min_new_tokens):
        raise PromptTooLongError(
            f"the prompt is {len(prompt_ids)} tokens; this model reads at most {limit} tokens in "
            f"all, which leaves no room to write: shorten the prompt"
        )
    return replace(params, max_new_tokens=room)


# --------------------------------------------------------------------------- prompts


def build_prompt_ids(
    tokenizer: Any,
    *,
    messages: Sequence[dict] | None = None,
    prompt: str | None = None,
    system: str | None = None,
    prefill: str | None = None,
) -> list[int]:
    """Token ids of the prompt.

    `messages` (chat) go through the tokenizer's chat template with a generation prompt; a
    `system` string is prepended as a system message. A bare `prompt` is used as raw text, unless
    `system` is given, in which case it becomes a chat of system + user messages.

    `prefill` is the beginning of the model's answer, appended after the generation prompt (no
    new turn), so the model goes on with an answer it had started (e.g. one whose run was cut
    short). The generated text then continues it: `prefill + text` is the whole answer.
    """
    if (messages is None) == (prompt is None):
        raise ValueError("give exactly one of messages= or prompt=")
    if prompt is not None and system is None:
        text = prompt
    else:
        chat = list(messages) if messages is not None else [{"role": "user", "content": prompt}]
        if system:
            chat = [{"role": "system", "content": system}, *chat]
        if getattr(tokenizer, "chat_template", None):
            text = tokenizer.apply_chat_template(chat, tokenize=False, add_generation_prompt=True)
        else:  # a base model without a template: plain "role: content" lines
            text = "".join(f"{m['role']}: {m['content']}\n" for m in chat) + "assistant: "
    return tokenizer(text + (prefill or ""), add_special_tokens=False)["input_ids"]


PREFILL_CONTEXT_TOKENS = 8  # decoding context for the first pieces after a prefill


# --------------------------------------------------------------------------- text assembly


class IncrementalDecoder:
    """Decode a growing token sequence into text pieces that never end mid-character.

    Decodes only a short window (from the last clean boundary) per token, so cost stays flat.
    A window whose text ends in U+FFFD is an incomplete UTF-8 sequence: held back until more
    tokens complete it (or `flush()` at the end gives whatever is left).

    `context`: token ids that come before the first new one (the end of a prefilled answer).
    The new text is decoded after them, so a tokenizer that drops the leading space of a
    sequence (SentencePiece) does not lose the space where the continuation joins the prefill.
    """

    def __init__(self, tokenizer: Any, context: Sequence[int] = ()):
        self.tokenizer = tokenizer
        self.ids: list[int] = list(context)
        self.prefix = 0
        self.read = len(self.ids)

    def _decode(self, ids: list[int]) -> str:
        return self.tokenizer.decode(
            ids, skip_special_tokens=True, clean_up_tokenization_spaces=False
        )

    def push(self, token_id: int) -> str:
        self.ids.append(token_id)
        prefix_text = self._decode(self.ids[self.prefix : self.read])
        new_text = self._decode(self.ids[self.prefix :])
        if len(new_text) > len(prefix_text) and not new_text.endswith("\ufffd"):
            self.prefix, self.read = self.read, len(self.ids)
            return new_text[len(prefix_text) :]
        return ""

    def flush(self) -> str:
        prefix_text = self._decode(self.ids[self.prefix : self.read])
        rest = self._decode(self.ids[self.prefix :])[len(prefix_text) :]
        self.prefix = self.read = len(self.ids)
        return rest


class StopMatcher:
    """Cut text at the first stop sequence; hold back a tail that may begin one."""

    def __init__(self, stops: Sequence[str]):
        self.stops = tuple(stops)
        self.buffer = ""
        self.hit = False

    def feed(self, piece: str) -> str:
        if not self.stops:
            return piece
        self.buffer += piece
        found = [i for i in (self.buffer.find(s) for s in self.stops) if i >= 0]
        if found:
            out, self.buffer, self.hit = self.buffer[: min(found)], "", True
            return out
        hold = max(
            (
                k
                for s in self.stops
                for k in range(len(s) - 1, 0, -1)
                if self.buffer.endswith(s[:k])
            ),
            default=0,
        )
        cut = len(self.buffer) - hold
        out, self.buffer = self.buffer[:cut], self.buffer[cut:]
        return out

    def flush(self) -> str:
        out, self.buffer = self.buffer, ""
        return out


# --------------------------------------------------------------------------- rows


_END = object()


@dataclass(eq=False)
class Row:
    """One request inside a (possibly single-row) generate call; shared by both threads."""

    prompt_ids: list[int]
    params: GenerationParams
    should_stop: Callable[[], bool] = lambda: False
    adapter_key: Any = None
    queue: queue.SimpleQueue = field(default_factory=queue.SimpleQueue)
    seed: int = 0
    created: float = field(default_factory=time.perf_counter)
    produced: int = 0
    finish: str | None = None
    stop_hit: bool = False
    closed: bool = False  # the streamer delivered this row's last token
    first_token_at: float | None = None
    ended_at: float | None = None
    generator: Any = None
    pad_len: int = 0
    context_ids: list[int] = field(default_factory=list)  # decoding context (the prefill's end)

    def __post_init__(self) -> None:
        # A seed a caller can give back to reproduce the text (inside GenerationParams' range).
        self.seed = self.params.seed if self.params.seed is not None else random.randrange(SEED_MAX + 1)

    def finish_as(self, reason: str) -> None:
        if self.finish is None:
            self.finish = reason

    @property
    def done(self) -> bool:
        return self.finish is not None


def _make_processor(rows: list[Row], eos_ids: list[int], prompt_len: int):
    import torch
    from transformers import LogitsProcessor

    class _RowProcessor(LogitsProcessor):
        """Per-row repetition penalty, EOS suppression and seeded sampling (see module doc)."""

        def __call__(self, input_ids, scores):
            produced = input_ids.shape[1] - prompt_len
            for i, row in enumerate(rows):
                if row.done:
                    continue
                p = row.params
                s = scores[i]
                if p.repetition_penalty != 1.0:
                    seen = input_ids[i, row.pad_len :]
                    picked = s.gather(0, seen)
                    picked = torch.where(
                        picked > 0, picked / p.repetition_penalty, picked * p.repetition_penalty
                    )
                    s.scatter_(0, seen, picked)
                if produced < p.min_new_tokens and eos_ids:
                    s[eos_ids] = float("-inf")
                if not p.greedy:
                    token = _sample(s, p, row.generator)
                    s.fill_(float("-inf"))
                    s[token] = 0.0
            return scores

    return _RowProcessor()


def _sample(scores, params: GenerationParams, generator) -> int:
    import torch

    logits = scores.float() / params.temperature
    if 0 < params.top_k < logits.shape[-1]:
        values, indices = torch.topk(logits, params.top_k)
    else:
        values, indices = torch.sort(logits, descending=True)
    probs = torch.softmax(values, dim=-1)
    if params.top_p < 1.0:
        cumulative = torch.cumsum(probs, dim=-1)
        probs = probs.masked_fill(cumulative - probs > params.top_p, 0.0)
    choice = torch.multinomial(probs, 1, generator=generator)
    return int(indices[choice])


def _make_criteria(rows: list[Row], prompt_len: int):
    import torch
    from transformers import StoppingCriteria

    class _RowCriteria(StoppingCriteria):
        """Ends a row on cancel, on a stop sequence seen by its consumer, or at its own limit."""

        def __call__(self, input_ids, scores, **kwargs):
            produced = input_ids.shape[1] - prompt_len
            flags = []
            for row in rows:
                if not row.done:
                    if row.stop_hit:
                        row.finish_as("stop")
                    elif row.should_stop():
                        row.finish_as("cancelled")
                    elif produced >= row.params.max_new_tokens:
                        row.finish_as("length")
                flags.append(row.done)
            return torch.tensor(flags, dtype=torch.bool, device=input_ids.device)

    return _RowCriteria()


class _RowStreamer:
    """transformers streamer: routes each step's new tokens to the rows' queues.

    transformers 5 calls the stopping criteria before the streamer for a step, so a row the
    criteria just finished still gets that step's token; only later (padding) tokens are dropped.
    """

    def __init__(self, rows: list[Row], eos_ids: set[int]):
        self.rows = rows
        self.eos_ids = eos_ids
        self.prompt_seen = False

    def put(self, value) -> None:
        if not self.prompt_seen:  # the first call carries the prompt
            self.prompt_seen = True
            return
        now = time.perf_counter()
        for row, token in zip(self.rows, value.reshape(-1).tolist(), strict=True):
            if row.closed:
                continue
            row.produced += 1
            if row.first_token_at is None:
                row.first_token_at = now
            row.queue.put(token)
            if token in self.eos_ids and row.finish in (None, "length"):
                row.finish = "eos"
            row.closed = row.done

    def end(self) -> None:
        pass


def eos_token_ids(loaded) -> list[int]:
    ids = loaded.model.generation_config.eos_token_id
    ids = [] if ids is None else [ids] if isinstance(ids, int) else list(ids)
    tok_eos = loaded.tokenizer.eos_token_id
    if tok_eos is not None and tok_eos not in ids:
        ids.append(tok_eos)
    return ids


def run_rows(loaded, rows: list[Row], *, stream: bool = True):
    """Run `rows` as one left-padded batch; returns the output ids tensor.

    With `stream`, each row's tokens go to its queue, followed by `_END` (or the exception).
    """
    import torch

    try:
        pad_id = loaded.tokenizer.pad_token_id
        width = max(len(r.prompt_ids) for r in rows)
        ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, row in enumerate(rows):
            row.pad_len = width - len(row.prompt_ids)
            ids[i, row.pad_len :] = torch.tensor(row.prompt_ids, dtype=torch.long)
            mask[i, row.pad_len :] = 1
            row.generator = torch.Generator(device=loaded.device).manual_seed(row.seed)
        eos = eos_token_ids(loaded)
        with loaded.activated() as model:
            out = model.generate(
                input_ids=ids.to(loaded.device),
                attention_mask=mask.to(loaded.device),
                max_new_tokens=max(r.params.max_new_tokens for r in rows),
                do_sample=False,
                num_beams=1,
                repetition_penalty=1.0,
                eos_token_id=eos,
                pad_token_id=pad_id,
                logits_processor=[_make_processor(rows, eos, width)],
                stopping_criteria=[_make_criteria(rows, width)],
                streamer=_RowStreamer(rows, set(eos)) if stream else None,
            )
    except BaseException as exc:
        for row in rows:
            row.finish_as("error")
            row.queue.put(exc)
        if not stream:
            raise
        return None
    now = time.perf_counter()
    for row in rows:
        row.finish_as("length")
        row.ended_at = now
        row.queue.put(_END)
    return out


# --------------------------------------------------------------------------- stream object


class TextStream(Iterator[str]):
    """Iterator of text pieces for one request; `.result` once it is exhausted.

    Reading `.result` early drains the stream. `close()` (or leaving a `with` block) cancels the
    request so an abandoned stream does not keep the model busy.
    """

    def __init__(self, row: Row, tokenizer: Any, cancel: threading.Event | None = None):
        self.row = row
        self.decoder = IncrementalDecoder(tokenizer, row.context_ids)
        self.stops = StopMatcher(row.params.stop)
        self._cancel = cancel or threading.Event()
        user_stop = row.should_stop
        row.should_stop = lambda: self._cancel.is_set() or user_stop()
        self._pieces: list[str] = []
        self._token_ids: list[int] = []
        self._result: GenerationResult | None = None
        self.worker: threading.Thread | None = None  # joined at the end (clean interpreter exit)

    def __iter__(self) -> TextStream:
        return self

    def __next__(self) -> str:
        while self._result is None:
            item = self.row.queue.get()
            if item is _END:
                if self.worker is not None:
                    self.worker.join()
                piece = self._finish()
            elif isinstance(item, BaseException):
                self._result = GenerationResult("".join(self._pieces), "cancelled", Usage())
                if isinstance(item, GenerationError):
                    raise item
                raise GenerationError(f"generation failed: {item}") from item
            else:
                piece = self._take(item)
            if piece:
                self._pieces.append(piece)
                return piece
        raise StopIteration

    def _take(self, token: int) -> str:
        self._token_ids.append(token)
        if self.stops.hit:
            return ""
        piece = self.stops.feed(self.decoder.push(token))
        if self.stops.hit:
            self.row.stop_hit = True  # the criteria ends the row on its next check
        return piece

    def _finish(self) -> str:
        piece = ""
        if not self.stops.hit:
            piece = self.stops.feed(self.decoder.flush())
            piece += "" if self.stops.hit else self.stops.flush()
        row = self.row
        reason = "stop" if self.stops.hit else row.finish or "length"
        end = row.ended_at or time.perf_counter()
        total = end - row.created
        usage = Usage(
            prompt_tokens=len(row.prompt_ids),
            completion_tokens=row.produced,
            time_to_first_token_s=None
            if row.first_token_at is None
            else row.first_token_at - row.created,
            tokens_per_s=row.produced / total if total > 0 else 0.0,
            total_s=total,
        )
        text = "".join(self._pieces) + piece
        self._result = GenerationResult(text, reason, usage, list(self._token_ids), row.seed)
        return piece

    @property
    def tokens_taken(self) -> int:
        """Tokens read so far: their text has been given out, but for a held-back tail (an
        incomplete character, a possible stop sequence). The model may already be further on."""
        return len(self._token_ids)

    @property
    def result(self) -> GenerationResult:
        for _ in self:
            pass
        assert self._result is not None
        return self._result

    def text(self) -> str:
        return self.result.text

    def close(self) -> None:
        if self._result is None:
            self._cancel.set()
            for _ in self:
                pass

    def __enter__(self) -> TextStream:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# --------------------------------------------------------------------------- public API


def prefilled_row(
    loaded,
    *,
    messages: Sequence[dict] | None,
    prompt: str | None,
    system: str | None,
    prefill: str | None,
    params: GenerationParams | None,
    should_stop: StopSignal,
) -> Row:
    """The Row of one request (shared by stream_generate and the batching engine), its answer
    cut to fit the model's context."""
    ids = build_prompt_ids(loaded.tokenizer, messages=messages, prompt=prompt, system=system, prefill=prefill)
    row = Row(ids, fit_to_context(loaded, ids, params or GenerationParams()), _stop_callable(should_stop))
    if prefill:
        row.context_ids = ids[-PREFILL_CONTEXT_TOKENS:]
    return row


def stream_generate(
    loaded,
    *,
    messages: Sequence[dict] | None = None,
    prompt: str | None = None,
    system: str | None = None,
    params: GenerationParams | None = None,
    should_stop: StopSignal = None,
    prefill: str | None = None,
) -> TextStream:
    """Start generating in a background thread; iterate the returned TextStream for pieces.

    `prefill`: the start of the answer the model continues (see build_prompt_ids); the pieces
    are only the continuation.
    """
    row = prefilled_row(loaded, messages=messages, prompt=prompt, system=system, prefill=prefill,
                        params=params, should_stop=should_stop)
    stream = TextStream(row, loaded.tokenizer)
    stream.worker = threading.Thread(
        target=run_rows, args=(loaded, [row]), daemon=True, name="generate"
    )
    stream.worker.start()
    return stream


def generate(
    loaded,
    *,
    messages: Sequence[dict] | None = None,
    prompt: str | None = None,
    system: str | None = None,
    params: GenerationParams | None = None,
    should_stop: StopSignal = None,
) -> GenerationResult:
    """Non-streaming generation in the caller's thread: one `model.generate`, one decode.

    Stop sequences truncate the text afterwards (the streaming path stops early instead).
    """
    params = params or GenerationParams()
    row = prefilled_row(loaded, messages=messages, prompt=prompt, system=system, prefill=None,
                        params=params, should_stop=should_stop)
    ids = row.prompt_ids
    out = run_rows(loaded, [row], stream=False)
    completion = out[0, len(ids) :].tolist()
    eos = set(eos_token_ids(loaded))
    reason = row.finish or "length"
    for n, token in enumerate(completion):
        if token in eos:
            completion, reason = completion[: n + 1], "eos"
            break
    text = loaded.tokenizer.decode(
        completion, skip_special_tokens=True, clean_up_tokenization_spaces=False
    )
    found = [i for i in (text.find(s) for s in params.stop) if i >= 0]
    if found:
        text, reason = text[: min(found)], "stop"
    total = time.perf_counter() - row.created
    usage = Usage(len(ids), len(completion), None, len(completion) / total, total)
    return GenerationResult(text, reason, usage, completion, row.seed)
