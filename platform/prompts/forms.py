from django import forms

from prompts.models import Category
from prompts.rendering import VARIABLE_TYPES

TYPE_CHOICES = [(t, t.replace("_", " ").capitalize()) for t in VARIABLE_TYPES]


class PromptForm(forms.Form):
    name = forms.CharField(max_length=120)
    category = forms.ChoiceField(choices=Category.choices, initial=Category.FREE)
    body = forms.CharField(
        label="Template", widget=forms.Textarea(attrs={"rows": 10, "spellcheck": "true"}),
        help_text="Write {variable} where a value goes; {{ and }} give literal braces.",
    )


class VariableForm(forms.Form):
    name = forms.CharField(max_length=64, required=False, widget=forms.TextInput(attrs={"placeholder": "topic"}))
    label = forms.CharField(max_length=120, required=False, widget=forms.TextInput(attrs={"placeholder": "Topic"}))
    type = forms.ChoiceField(choices=TYPE_CHOICES, initial="text")
    default = forms.CharField(max_length=500, required=False)
    required = forms.BooleanField(required=False, initial=True)
    choices = forms.CharField(
        max_length=1000, required=False, widget=forms.TextInput(attrs={"placeholder": "a, b, c"}),
        help_text="For a choice: comma-separated options.",
    )


VariableFormSet = forms.formset_factory(VariableForm, extra=0, can_delete=True)


def variable_rows(formset) -> list[dict]:
    """The declared variables from a bound formset, blank and deleted rows dropped (no validation:
    the service validates and names the row and field)."""
    rows = []
    for index in range(formset.total_form_count()):
        form = formset.forms[index]
        prefix = form.prefix
        data = formset.data
        if data.get(f"{prefix}-DELETE"):
            continue
        row = {field: (data.get(f"{prefix}-{field}") or "").strip() for field in ("name", "label", "type", "default", "choices")}
        row["required"] = bool(data.get(f"{prefix}-required"))
        if any(row[f] for f in ("name", "label", "default", "choices")):
            rows.append(row)
    return rows


def formset_for(rows: list[dict], *, data=None, extra: int = 0):
    cls = forms.formset_factory(VariableForm, extra=extra, can_delete=True)
    if data is not None:
        return cls(data)
    initial = [{**row, "choices": ", ".join(row.get("choices") or [])} for row in rows]
    return cls(initial=initial)


class ValuesForm(forms.Form):
    """The form a writer fills in: one field per declared variable."""

    def __init__(self, variables, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for variable in variables:
            spec = variable.as_dict()
            common = {"label": spec["label"], "required": False, "initial": variable.default}
            if variable.type == "long_text":
                field = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), **common)
            elif variable.type == "number":
                field = forms.CharField(widget=forms.NumberInput(attrs={"step": "any"}), **common)
            elif variable.type == "choice":
                field = forms.ChoiceField(choices=[("", "—")] + [(c, c) for c in variable.choices], **common)
            else:
                field = forms.CharField(**common)
            field.widget.attrs["data-required"] = "true" if variable.required else "false"
            self.fields[variable.name] = field
