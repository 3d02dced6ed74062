"""Diffs for version histories, shaped for templates: a list of {"kind", "text"} with kind
"added", "removed" or "same". line_diff for code-like text (one item a line), word_diff for prose
(runs of words, to show inline)."""

import difflib
import re
from collections.abc import Callable

KINDS = {"+": "added", "-": "removed", " ": "same"}
# Words, runs of spaces, and single other characters: prose diffs change whole words.
TOKEN = re.compile(r"\w+|[^\S\n]+|\n|[^\w\s]")
WORD_DIFF_TOKENS = 2_000  # the most tokens a side of one changed stretch is matched word by word
WORD_DIFF_BUDGET = 100_000  # and in all, for one diff


def line_diff(old: str, new: str) -> list[dict]:
    return [
        {"kind": KINDS[line[:1]], "text": line[2:]}
        for line in difflib.ndiff(old.splitlines(), new.splitlines())
        if line[:1] in KINDS
    ]


def _opcodes(old: list[str], new: list[str]):
    return difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes()


def word_diff(old: str, new: str) -> list[dict]:
    """Inline diff of prose: paragraphs (lines) are matched first, then the words inside the
    ones that changed, so a one-word edit shows as one word. The texts of the "same" and
    "removed" items joined give `old`; "same" and "added" give `new`.

    Word matching costs more the longer a changed stretch is, so a stretch over WORD_DIFF_TOKENS
    tokens is taken paragraph by paragraph when both sides have as many, else shown as removed
    and added whole; so is everything once WORD_DIFF_BUDGET tokens have been matched."""
    parts: list[dict] = []
    budget = [WORD_DIFF_BUDGET]

    def add(kind: str, text: str) -> None:
        if not text:
            return
        if parts and parts[-1]["kind"] == kind:
            parts[-1]["text"] += text
        else:
            parts.append({"kind": kind, "text": text})

    def changed(old_lines: list[str], new_lines: list[str]) -> None:
        before, after = "".join(old_lines), "".join(new_lines)
        old_words, new_words = TOKEN.findall(before), TOKEN.findall(after)
        size = max(len(old_words), len(new_words))
        if size > WORD_DIFF_TOKENS and len(old_lines) == len(new_lines) > 1:
            for pair in zip(old_lines, new_lines, strict=True):
                changed([pair[0]], [pair[1]])
            return
        if size > min(WORD_DIFF_TOKENS, budget[0]):
            add("removed", before)
            add("added", after)
            return
        budget[0] -= size
        opcodes = _opcodes(old_words, new_words)
        removed, added = [], []
        for n, (op, i1, i2, j1, j2) in enumerate(opcodes):
            # A lone space between two changes joins them: "all day" → "from dawn to dusk" reads
            # as one replacement, not as alternating crossed-out and inserted words.
            if op != "equal" or (0 < n < len(opcodes) - 1 and not "".join(old_words[i1:i2]).strip(" \t")):
                removed += old_words[i1:i2]
                added += new_words[j1:j2]
                continue
            add("removed", "".join(removed))
            add("added", "".join(added))
            removed, added = [], []
            add("same", "".join(old_words[i1:i2]))
        add("removed", "".join(removed))
        add("added", "".join(added))

    old_lines, new_lines = old.splitlines(keepends=True), new.splitlines(keepends=True)
    for op, i1, i2, j1, j2 in _opcodes(old_lines, new_lines):
        if op == "equal":
            add("same", "".join(old_lines[i1:i2]))
        else:
            changed(old_lines[i1:i2], new_lines[j1:j2])
    return parts


def compare_versions(versions, query, text: Callable, diff: Callable[[str, str], list[dict]] = line_diff) -> dict:
    """Context for a diff page of a versioned object: `?a=` and `?b=` (default: the previous
    and the latest version), both versions, all numbers, and `diff` (line_diff, or word_diff for
    prose) of `text(version)`. 404 when a number is not one of `versions`' (or there are none)."""
    from django.http import Http404
    from django.shortcuts import get_object_or_404

    numbers = sorted(versions.values_list("number", flat=True))
    if not numbers:
        raise Http404("There are no versions to compare.")
    default_a = numbers[-2] if len(numbers) > 1 else numbers[-1]
    try:
        a, b = int(query.get("a") or default_a), int(query.get("b") or numbers[-1])
    except ValueError:
        a, b = default_a, numbers[-1]
    old = get_object_or_404(versions, number=a)
    new = get_object_or_404(versions, number=b)
    return {"old": old, "new": new, "numbers": numbers, "diff": diff(text(old), text(new))}


def diff_counts(runs: list[dict]) -> dict:
    """Words added and removed in a word_diff (for a one-line summary)."""
    counts = {"added": 0, "removed": 0}
    for run in runs:
        if run["kind"] in counts:
            counts[run["kind"]] += len(run["text"].split())
    return counts
