"""Numbers of a model's evaluation, shown the same way on every page (— where missing)."""

from django import template

register = template.Library()

MISSING = "—"


def _number(value) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


@register.filter
def metric(value, digits=2) -> str:
    """A number with `digits` decimals, or — (missing, null, or not a number)."""
    number = _number(value)
    return MISSING if number is None else f"{number:.{int(digits)}f}"


@register.filter
def percent_change(value) -> str:
    """-0.8 -> "−80.0%", 0.05 -> "+5.0%" (the evaluation's change: after/before - 1)."""
    number = _number(value)
    if number is None:
        return MISSING
    return f"{'+' if number > 0 else '−' if number < 0 else '±'}{abs(number) * 100:.1f}%"


@register.filter
def samples(evaluation) -> list[dict]:
    """The evaluation's base-vs-tuned samples that are objects (none on rows without any)."""
    items = evaluation.get("samples") if isinstance(evaluation, dict) else None
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []
