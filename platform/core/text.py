"""What a database cannot store as text, said once for every way text comes in (dataset files,
API bodies). Pure Python: the dataset parsers use it without Django."""


def unstorable_reason(text: str) -> str | None:
    """Why `text` cannot be stored (a NUL character: PostgreSQL refuses it in text and JSONB; a
    lone UTF-16 surrogate: not UTF-8), or None when it can."""
    nul = text.find("\x00")
    if nul >= 0:
        return f"holds a NUL character (\\u0000) at character {nul + 1}, which cannot be stored"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        code = ord(text[exc.start])
        return f"holds a lone UTF-16 surrogate (\\u{code:04x}) at character {exc.start + 1}, which is not text"
    return None
