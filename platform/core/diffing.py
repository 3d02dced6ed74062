"""Line diffs for version histories, shaped for templates (one dict per line)."""

import difflib
import re


def line_diff(old: str, new: str) -> list[dict]:
    kinds = {"+": "added", "-": "removed", " ": "same"}
    return [
        {"kind": kinds[line[:1]], "text": line[2:]}
        for line in difflib.ndiff(old.splitlines(), new.splitlines())
        if line[:1] in kinds
    ]


def compare_versions(versions, query, text) -> dict:
    """Context for a diff page of a versioned object: `?a=` and `?b=` (default: the previous
    and the latest version), both versions, all numbers, and the line diff of `text(version)`."""
    from django.shortcuts import get_object_or_404

    numbers = sorted(versions.values_list("number", flat=True))
    default_a = numbers[-2] if len(numbers) > 1 else numbers[-1]
    try:
        a, b = int(query.get("a") or default_a), int(query.get("b") or numbers[-1])
    except ValueError:
        a, b = default_a, numbers[-1]
    old = get_object_or_404(versions, number=a)
    new = get_object_or_404(versions, number=b)
    return {"old": old, "new": new, "numbers": numbers, "diff": line_diff(text(old), text(new))}


_WORDS = re.compile(r"\s+|[^\s]+")


def word_diff(old: str, new: str) -> list[dict]:
    """A word-level diff for prose: runs of {"kind": "same" | "added" | "removed", "text"} that,
    read in order, give `old` (same + removed) and `new` (same + added). Whitespace counts as a
    word, so line breaks survive; a changed word shows as removed then added."""
    old_words, new_words = _WORDS.findall(old or ""), _WORDS.findall(new or "")
    runs: list[dict] = []

    def emit(kind: str, words: list[str]) -> None:
        text = "".join(words)
        if not text:
            return
        if runs and runs[-1]["kind"] == kind:
            runs[-1]["text"] += text
        else:
            runs.append({"kind": kind, "text": text})

    opcodes = difflib.SequenceMatcher(None, old_words, new_words, autojunk=False).get_opcodes()
    removed: list[str] = []
    added: list[str] = []
    for n, (op, i1, i2, j1, j2) in enumerate(opcodes):
        between_changes = 0 < n < len(opcodes) - 1 and not "".join(old_words[i1:i2]).strip()
        if op != "equal" or between_changes:  # a lone space between two changes joins them
            removed += old_words[i1:i2]
            added += new_words[j1:j2]
            continue
        emit("removed", removed)
        emit("added", added)
        removed, added = [], []
        emit("same", old_words[i1:i2])
    emit("removed", removed)
    emit("added", added)
    return runs


def diff_counts(runs: list[dict]) -> dict:
    """Words added and removed in a word_diff (for a one-line summary)."""
    counts = {"added": 0, "removed": 0}
    for run in runs:
        if run["kind"] in counts:
            counts[run["kind"]] += len(run["text"].split())
    return counts
