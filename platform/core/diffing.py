"""Line diffs for version histories, shaped for templates (one dict per line)."""

import difflib


def line_diff(old: str, new: str) -> list[dict]:
    kinds = {"+": "added", "-": "removed", " ": "same"}
    return [
        {"kind": kinds[line[:1]], "text": line[2:]}
        for line in difflib.ndiff(old.splitlines(), new.splitlines())
        if line[:1] in kinds
    ]


def version_pair(numbers: list[int], a: str | None, b: str | None) -> tuple[int, int]:
    """The two versions to compare: the query's, else the previous and the latest."""
    default_a = numbers[-2] if len(numbers) > 1 else numbers[-1]
    try:
        return int(a or default_a), int(b or numbers[-1])
    except ValueError:
        return default_a, numbers[-1]
