"""Prompt templates: `{variable}` placeholders, `{{` and `}}` for literal braces.

Pure Python (no Django), so the worker, the API and the live preview share one definition.
"""

import re
from dataclasses import dataclass

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
VARIABLE_TYPES = ("text", "long_text", "number", "choice")


@dataclass(frozen=True)
class Placeholder:
    name: str
    offset: int  # index of the opening brace in the template text
    line: int
    column: int


class TemplateError(ValueError):
    """A problem in a template's text, located by line and column (1-based)."""

    def __init__(self, message: str, *, line: int, column: int):
        super().__init__(f"line {line}, column {column}: {message}")
        self.reason = message
        self.line = line
        self.column = column


def _position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def parse_placeholders(text: str) -> list[Placeholder]:
    """All placeholders in order; raises TemplateError at the first malformed brace."""
    found, i = [], 0
    while i < len(text):
        char = text[i]
        if char == "{":
            if text.startswith("{{", i):
                i += 2
                continue
            end = text.find("}", i + 1)
            newline = text.find("\n", i + 1)
            opening = text.find("{", i + 1)
            if end == -1 or (newline != -1 and newline < end) or (opening != -1 and opening < end):
                line, column = _position(text, i)
                raise TemplateError(
                    "'{' is never closed (write '{{' for a literal brace)", line=line, column=column
                )
            name = text[i + 1 : end].strip()
            if not NAME.match(name):
                line, column = _position(text, i)
                reason = (
                    f"'{{{name}}}' is not a variable name (letters, digits and _, not starting with a digit)"
                    if name else "'{}' is empty: put a variable name between the braces"
                )
                raise TemplateError(reason, line=line, column=column)
            line, column = _position(text, i)
            found.append(Placeholder(name, i, line, column))
            i = end + 1
        elif char == "}":
            if text.startswith("}}", i):
                i += 2
                continue
            line, column = _position(text, i)
            raise TemplateError("'}' without a matching '{' (write '}}' for a literal brace)", line=line, column=column)
        else:
            i += 1
    return found


def check_template(text: str, declared: list[str]) -> list[Placeholder]:
    """Placeholders must be well formed and declared. Returns them; raises the first problem."""
    placeholders = parse_placeholders(text)
    known = set(declared)
    for placeholder in placeholders:
        if placeholder.name not in known:
            raise TemplateError(
                f"unknown variable {{{placeholder.name}}}: declare it below or fix the name",
                line=placeholder.line, column=placeholder.column,
            )
    return placeholders


def render(text: str, values: dict[str, str]) -> str:
    """Fill placeholders; literal `{{`/`}}` become `{`/`}`. Every placeholder needs a value."""
    out, last = [], 0
    for placeholder in parse_placeholders(text):
        out.append(_unescape(text[last : placeholder.offset]))
        out.append(str(values[placeholder.name]))
        last = text.index("}", placeholder.offset) + 1
    out.append(_unescape(text[last:]))
    return "".join(out)


def _unescape(literal: str) -> str:
    return literal.replace("{{", "{").replace("}}", "}")


@dataclass(frozen=True)
class Variable:
    """A declared variable: it becomes a field in the form a writer fills in."""

    name: str
    label: str = ""
    type: str = "text"
    default: str = ""
    required: bool = True
    choices: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        return {
            "name": self.name, "label": self.label or self.name.replace("_", " ").capitalize(),
            "type": self.type, "default": self.default, "required": self.required,
            "choices": list(self.choices),
        }


class VariableError(ValueError):
    def __init__(self, message: str, *, index: int, field: str):
        super().__init__(f"variable {index + 1}, {field}: {message}")
        self.index, self.field, self.reason = index, field, message


def parse_variables(raw: list[dict]) -> list[Variable]:
    """Validate variable declarations (from a form or the API); errors name the row and field."""
    variables, seen = [], set()
    for index, item in enumerate(raw):
        name = str(item.get("name", "")).strip()
        if not NAME.match(name):
            raise VariableError("letters, digits and _ only, not starting with a digit", index=index, field="name")
        if name in seen:
            raise VariableError(f"{name!r} is declared twice", index=index, field="name")
        seen.add(name)
        kind = item.get("type") or "text"
        if kind not in VARIABLE_TYPES:
            raise VariableError(f"must be one of {', '.join(VARIABLE_TYPES)}", index=index, field="type")
        choices = item.get("choices") or ()
        if isinstance(choices, str):
            choices = [c.strip() for c in choices.split(",")]
        choices = tuple(c for c in (str(c).strip() for c in choices) if c)
        if kind == "choice" and not choices:
            raise VariableError("a choice variable needs choices (comma-separated)", index=index, field="choices")
        default = str(item.get("default") or "")
        if default and kind == "number":
            try:
                float(default)
            except ValueError:
                raise VariableError(f"{default!r} is not a number", index=index, field="default") from None
        if default and kind == "choice" and default not in choices:
            raise VariableError(f"{default!r} is not one of the choices", index=index, field="default")
        variables.append(Variable(
            name=name, label=str(item.get("label") or "").strip(), type=kind, default=default,
            required=bool(item.get("required", True)), choices=choices,
        ))
    return variables


def fill_values(variables: list[Variable], values: dict[str, str], *, sample: bool = False) -> tuple[dict, dict]:
    """Values for rendering, and errors per variable name. With `sample`, blanks show as [Label]."""
    filled, errors = {}, {}
    for variable in variables:
        value = str(values.get(variable.name, "") or "").strip() or variable.default
        label = variable.as_dict()["label"]
        if not value:
            if sample:
                value = f"[{label}]"
            elif variable.required:
                errors[variable.name] = f"{label} is required."
        elif variable.type == "number":
            try:
                float(value)
            except ValueError:
                errors[variable.name] = f"{label} must be a number."
        elif variable.type == "choice" and value not in variable.choices:
            errors[variable.name] = f"{label} must be one of: {', '.join(variable.choices)}."
        filled[variable.name] = value
    return filled, errors
