"""Line diffs for version histories, shaped for templates (one dict per line)."""

import difflib


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
