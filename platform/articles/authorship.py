"""Who wrote which part of an article's text, carried from revision to revision by a word diff.

A revision's authorship is a list of runs `[characters, "machine" | "human"]` that cover its
body in order. Saving a new body keeps the author of every stretch the diff finds unchanged;
what was inserted or rewritten belongs to whoever made the save (a person typing, or the machine
when a generation's text is taken in). The machine-written share is what is left of the machine's
characters.
"""

import difflib
import re

MACHINE, HUMAN = "machine", "human"
_TOKENS = re.compile(r"\s+|[^\s]+")


def _expand(text: str, runs: list) -> list[str]:
    """One author per character (runs that do not cover the text leave the rest human)."""
    authors: list[str] = []
    for count, author in runs or ():
        authors.extend([author] * int(count))
    authors = authors[: len(text)]
    return authors + [HUMAN] * (len(text) - len(authors))


def _compress(authors: list[str]) -> list[list]:
    runs: list[list] = []
    for author in authors:
        if runs and runs[-1][1] == author:
            runs[-1][0] += 1
        else:
            runs.append([1, author])
    return runs


def carry(old_text: str, old_runs: list, new_text: str, author: str) -> list[list]:
    """The new text's authorship: stretches unchanged since `old_text` keep their author, the rest
    is `author`'s. Compared word by word, so fixing a typo makes that word the editor's."""
    old_authors = _expand(old_text, old_runs)
    old_tokens, new_tokens = _TOKENS.findall(old_text), _TOKENS.findall(new_text)
    old_starts = [0]
    for token in old_tokens:
        old_starts.append(old_starts[-1] + len(token))
    new_authors: list[str] = []
    matcher = difflib.SequenceMatcher(None, old_tokens, new_tokens, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            new_authors.extend(old_authors[old_starts[i1]:old_starts[i2]])
        else:
            new_authors.extend([author] * sum(len(t) for t in new_tokens[j1:j2]))
    return _compress(new_authors)


def machine_share(text: str, runs: list) -> float:
    """Share of the text's non-space characters that are machine-written, 0-1."""
    authors = _expand(text, runs)
    counted = [a for ch, a in zip(text, authors, strict=True) if not ch.isspace()]
    return round(sum(a == MACHINE for a in counted) / len(counted), 4) if counted else 0.0
