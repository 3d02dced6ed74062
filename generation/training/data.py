"""Training/evaluation records: reading, validation, hashing, tokenization and batching.

Three record shapes are accepted (one shape family per dataset):

- instruction: ``{"prompt": str, "completion": str}``
- chat: ``{"messages": [{"role": "user"|"assistant"|"system", "content": str}, ...]}``
- raw text: ``{"text": str}``

Instruction and chat records are *supervised*: they are rendered with the tokenizer's chat
template and only the assistant tokens carry a loss (labels are -100 elsewhere). Raw text
records are plain causal-LM data: tokenized, joined with EOS and packed into fixed-length
blocks so that no compute is spent on padding.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generation.errors import DatasetError

IGNORE_INDEX = -100
ROLES = ("system", "user", "assistant")



def read_records(path: str | Path) -> list[dict[str, Any]]:
    """Read a ``.jsonl`` file (one JSON object a line) or a ``.txt`` file (blank-line separated
    passages, each becoming ``{"text": ...}``). Errors name the file and line."""
    path = Path(path)
    if not path.exists():
        raise DatasetError(f"data file not found: {path}")
    if path.is_dir():
        raise DatasetError(f"data path is a directory, expected a .jsonl or .txt file: {path}")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    if path.suffix.lower() in (".txt", ".md"):
        passages = [p.strip() for p in text.replace("\r\n", "\n").split("\n\n")]
        return [{"text": p} for p in passages if p]
    records = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{path}: line {lineno}: invalid JSON ({exc.msg})") from None
        if not isinstance(obj, dict):
            raise DatasetError(f"{path}: line {lineno}: expected a JSON object, got {type(obj).__name__}")
        records.append(obj)
    return records


def record_kind(record: Any, index: int) -> str:
    """Return "instruction", "chat" or "text" for one record, or raise DatasetError naming
    the record index and the missing/invalid field."""
    if not isinstance(record, dict):
        raise DatasetError(f"record {index}: expected an object, got {type(record).__name__}")
    if "messages" in record:
        messages = record["messages"]
        if not isinstance(messages, list) or not messages:
            raise DatasetError(f"record {index}: field 'messages' must be a non-empty list")
        for j, msg in enumerate(messages):
            if not isinstance(msg, dict):
                raise DatasetError(f"record {index}: field 'messages[{j}]' must be an object")
            if msg.get("role") not in ROLES:
                raise DatasetError(
                    f"record {index}: field 'messages[{j}].role' must be one of {', '.join(ROLES)}"
                )
            if not isinstance(msg.get("content"), str):
                raise DatasetError(f"record {index}: field 'messages[{j}].content' must be a string")
        if not any(m["role"] == "assistant" and m["content"].strip() for m in messages):
            raise DatasetError(f"record {index}: field 'messages' has no non-empty assistant message")
        return "chat"
    if "prompt" in record or "completion" in record:
        for name in ("prompt", "completion"):
            if name not in record:
                raise DatasetError(f"record {index}: missing field '{name}'")
            if not isinstance(record[name], str):
                raise DatasetError(f"record {index}: field '{name}' must be a string")
        if not record["completion"].strip():
            raise DatasetError(f"record {index}: field 'completion' is empty")
        return "instruction"
    if "text" in record:
        if not isinstance(record["text"], str):
            raise DatasetError(f"record {index}: field 'text' must be a string")
        if not record["text"].strip():
            raise DatasetError(f"record {index}: field 'text' is empty")
        return "text"
    raise DatasetError(
        f"record {index}: missing field 'text' (or 'prompt'/'completion', or 'messages')"
    )


def validate_records(records: Sequence[Any]) -> str:
    """Validate every record; return the dataset kind: "supervised" or "text"."""
    if records is None or len(records) == 0:
        raise DatasetError("the dataset is empty: no records")
    family = None
    for i, rec in enumerate(records):
        kind = "text" if record_kind(rec, i) == "text" else "supervised"
        if family is None:
            family = kind
        elif kind != family:
            raise DatasetError(
                f"record {i}: is a {kind} record but earlier records are {family} records; "
                "use one shape per dataset"
            )
    return family


def data_hash(records: Iterable[Any]) -> str:
    """sha256 of the canonical JSON of the records (sorted keys, compact, UTF-8)."""
    h = hashlib.sha256()
    for rec in records:
        h.update(json.dumps(rec, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode())
        h.update(b"\n")
    return h.hexdigest()


def split_records(records: Sequence[Any], fraction: float, seed: int) -> tuple[list, list]:
    """Seeded shuffle split into (train, validation); at least one of each when possible."""
    records = list(records)
    if fraction <= 0 or len(records) < 2:
        return records, []
    order = list(range(len(records)))
    random.Random(seed).shuffle(order)
    n_val = min(len(records) - 1, max(1, round(len(records) * fraction)))
    val_idx = set(order[:n_val])
    train = [r for i, r in enumerate(records) if i not in val_idx]
    val = [r for i, r in enumerate(records) if i in val_idx]
    return train, val


def to_messages(record: dict[str, Any]) -> list[dict[str, str]]:
    if "messages" in record:
        return [{"role": m["role"], "content": m["content"]} for m in record["messages"]]
    return [
        {"role": "user", "content": record["prompt"]},
        {"role": "assistant", "content": record["completion"]},
    ]


def _render(tokenizer, messages: list[dict[str, str]], add_generation_prompt: bool) -> str:
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=add_generation_prompt
        )
    # No template: plain "prompt\n\ncompletion<eos>" turns.
    out = ""
    for m in messages:
        if m["role"] == "assistant":
            out += m["content"] + (tokenizer.eos_token or "") + "\n\n"
        else:
            out += m["content"] + "\n\n"
    return out


def tokenize_supervised(tokenizer, record: dict[str, Any], max_seq_len: int) -> dict[str, list[int]]:
    """Token ids and labels for one instruction/chat record, loss on assistant turns only.

    The conversation is rendered once per turn boundary and each segment is tokenized on its
    own, so the label mask falls exactly on the assistant text (a BPE merge across the
    boundary cannot shift it). The assistant segment includes the end-of-turn token so the
    model learns to stop.
    """
    messages = to_messages(record)
    segments: list[tuple[str, bool]] = []
    done = ""
    for i, msg in enumerate(messages):
        if msg["role"] != "assistant":
            continue
        prefix = _render(tokenizer, messages[:i], add_generation_prompt=True) if i else ""
        through = _render(tokenizer, messages[: i + 1], add_generation_prompt=False)
        if not prefix.startswith(done) or not through.startswith(prefix):
            raise DatasetError("the tokenizer's chat template is not prefix-stable; cannot mask prompts")
        segments.append((prefix[len(done):], False))
        segments.append((through[len(prefix):], True))
        done = through
    input_ids: list[int] = []
    labels: list[int] = []
    for text, trained in segments:
        if not text:
            continue
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        input_ids.extend(ids)
        labels.extend(ids if trained else [IGNORE_INDEX] * len(ids))
    bos = tokenizer.bos_token_id
    if bos is not None and getattr(tokenizer, "add_bos_token", False) and input_ids[:1] != [bos]:
        input_ids.insert(0, bos)
        labels.insert(0, IGNORE_INDEX)
    return {"input_ids": input_ids[:max_seq_len], "labels": labels[:max_seq_len]}


def pack_texts(tokenizer, texts: Iterable[str], block_size: int) -> list[dict[str, list[int]]]:
    """Tokenize texts, join them with EOS and cut the stream into ``block_size`` blocks.

    The last, shorter block is kept (small datasets would otherwise lose their tail); the
    collator pads it and masks the padding.
    """
    eos = tokenizer.eos_token_id
    stream: list[int] = []
    for text in texts:
        stream.extend(tokenizer(text, add_special_tokens=False)["input_ids"])
        if eos is not None:
            stream.append(eos)
    blocks = []
    for start in range(0, len(stream), block_size):
        ids = stream[start : start + block_size]
        if len(ids) >= 2:
            blocks.append({"input_ids": ids, "labels": list(ids)})
    return blocks


def build_examples(
    tokenizer, records: Sequence[dict[str, Any]], kind: str, max_seq_len: int, pack: bool = True
) -> tuple[list[dict[str, list[int]]], int]:
    """Return (examples, dropped) where dropped counts supervised records whose assistant
    tokens were all cut off by ``max_seq_len``."""
    if kind == "text":
        if pack:
            return pack_texts(tokenizer, (r["text"] for r in records), max_seq_len), 0
        examples = []
        for r in records:
            ids = tokenizer(r["text"], add_special_tokens=False)["input_ids"][:max_seq_len]
            examples.append({"input_ids": ids, "labels": list(ids)})
        return examples, 0
    examples, dropped = [], 0
    for r in records:
        ex = tokenize_supervised(tokenizer, r, max_seq_len)
        if all(label == IGNORE_INDEX for label in ex["labels"]):
            dropped += 1
            continue
        examples.append(ex)
    return examples, dropped


@dataclass
class PadCollator:
    """Right-pads a list of examples into tensors; padding is masked (attention 0, label -100)."""

    pad_token_id: int

    def __call__(self, features: list[dict[str, list[int]]]) -> dict[str, Any]:
        import torch

        width = max(len(f["input_ids"]) for f in features)
        n = len(features)
        input_ids = torch.full((n, width), self.pad_token_id, dtype=torch.long)
        attention = torch.zeros((n, width), dtype=torch.long)
        labels = torch.full((n, width), IGNORE_INDEX, dtype=torch.long)
        for i, f in enumerate(features):
            k = len(f["input_ids"])
            input_ids[i, :k] = torch.tensor(f["input_ids"], dtype=torch.long)
            attention[i, :k] = 1
            labels[i, :k] = torch.tensor(f.get("labels", f["input_ids"]), dtype=torch.long)
        return {"input_ids": input_ids, "attention_mask": attention, "labels": labels}
