"""The system prompt a style profile produces. Pure Python: the worker and the pages share it."""

from dataclasses import dataclass, field


def lines(text: str) -> list[str]:
    return [line.strip(" -•\t") for line in (text or "").splitlines() if line.strip(" -•\t")]


def words(text: str) -> list[str]:
    return [w.strip() for w in (text or "").replace("\n", ",").split(",") if w.strip()]


def passages(text: str) -> list[str]:
    """Example passages are separated by a line holding only `---`."""
    parts, current = [], []
    for line in (text or "").splitlines():
        if line.strip() == "---":
            parts.append("\n".join(current).strip())
            current = []
        else:
            current.append(line)
    parts.append("\n".join(current).strip())
    return [p for p in parts if p]


@dataclass
class Voice:
    name: str
    voice: str = ""
    audience: str = ""
    tone: str = ""
    reading_level: int | None = None
    do_rules: list[str] = field(default_factory=list)
    dont_rules: list[str] = field(default_factory=list)
    banned_words: list[str] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)


def build_system_prompt(voice: Voice, *, max_examples: int = 2) -> str:
    parts = [f"You are a writer for {voice.name}." if voice.name else "You are a careful writer."]
    if voice.voice:
        parts.append(f"Voice: {voice.voice.strip()}")
    if voice.audience:
        parts.append(f"Audience: {voice.audience.strip()}")
    if voice.tone:
        parts.append(f"Tone: {voice.tone.strip()}")
    if voice.reading_level:
        parts.append(f"Write at a US grade {voice.reading_level} reading level: short sentences, common words.")
    if voice.do_rules:
        parts.append("Always:\n" + "\n".join(f"- {rule}" for rule in voice.do_rules))
    if voice.dont_rules:
        parts.append("Never:\n" + "\n".join(f"- {rule}" for rule in voice.dont_rules))
    if voice.banned_words:
        parts.append("Do not use these words: " + ", ".join(voice.banned_words) + ".")
    if voice.examples:
        shown = voice.examples[:max_examples]
        parts.append("Examples of the voice:\n" + "\n\n".join(f"\"\"\"\n{example}\n\"\"\"" for example in shown))
    return "\n\n".join(parts)
