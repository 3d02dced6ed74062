import pytest

from prompts.rendering import (
    TemplateError,
    VariableError,
    check_template,
    fill_values,
    parse_variables,
    render,
)


def test_render_fills_variables_and_keeps_literal_braces():
    assert render("Hi {name}, use {{json}} and }} here", {"name": "Ann"}) == "Hi Ann, use {json} and } here"


def test_values_are_inserted_verbatim():
    assert render("{a}", {"a": "{b} }}"}) == "{b} }}"


@pytest.mark.parametrize(
    ("text", "line", "column", "reason"),
    [
        ("Write about {topic", 1, 13, "never closed"),
        ("Write about topic}", 1, 18, "without a matching '{'"),
        ("one\ntwo {2nd} three", 2, 5, "not a variable name"),
        ("a {} b", 1, 3, "empty"),
        ("line one\n  {topic\n}", 2, 3, "never closed"),
    ],
)
def test_unbalanced_or_bad_placeholders_are_refused_with_their_position(text, line, column, reason):
    with pytest.raises(TemplateError) as excinfo:
        check_template(text, ["topic"])
    assert (excinfo.value.line, excinfo.value.column) == (line, column)
    assert reason in str(excinfo.value)
    assert str(excinfo.value).startswith(f"line {line}, column {column}: ")


def test_unknown_placeholder_is_refused_with_its_position():
    with pytest.raises(TemplateError, match=r"line 2, column 7: unknown variable \{tone\}"):
        check_template("About {topic}.\nTone: {tone}", ["topic"])


def test_variable_declarations_are_checked_row_by_row():
    with pytest.raises(VariableError, match="variable 2, name: 'topic' is declared twice"):
        parse_variables([{"name": "topic"}, {"name": "topic"}])
    with pytest.raises(VariableError, match="variable 1, choices"):
        parse_variables([{"name": "tone", "type": "choice"}])
    with pytest.raises(VariableError, match="variable 1, default: 'many' is not a number"):
        parse_variables([{"name": "n", "type": "number", "default": "many"}])


def test_fill_values_reports_missing_and_bad_values():
    variables = parse_variables([
        {"name": "topic", "required": True},
        {"name": "count", "type": "number", "default": "3"},
        {"name": "tone", "type": "choice", "choices": "warm, dry", "required": False},
    ])
    values, errors = fill_values(variables, {"tone": "loud"})
    assert values["count"] == "3"
    assert errors == {"topic": "Topic is required.", "tone": "Tone must be one of: warm, dry."}
    sample, errors = fill_values(variables, {}, sample=True)
    assert sample["topic"] == "[Topic]" and not errors
