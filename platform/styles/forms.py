from django import forms

from core.sampling import STYLE_PARAMS, add_param_fields, clamp
from styles.models import DEFAULT_PARAMS


class StyleForm(forms.Form):
    name = forms.CharField(max_length=120)
    voice = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text="How the writing sounds, in a few sentences.")
    audience = forms.CharField(required=False, max_length=300)
    tone = forms.CharField(required=False, max_length=200)
    reading_level = forms.CharField(required=False, label="Reading level (US grade)", widget=forms.NumberInput(attrs={"min": 1, "max": 16}))
    do_rules = forms.CharField(required=False, label="Do", widget=forms.Textarea(attrs={"rows": 3}), help_text="One rule per line.")
    dont_rules = forms.CharField(required=False, label="Don't", widget=forms.Textarea(attrs={"rows": 3}), help_text="One rule per line.")
    banned_words = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text="Comma-separated or one per line.")
    examples = forms.CharField(required=False, label="Example passages", widget=forms.Textarea(attrs={"rows": 6}), help_text="Separate passages with a line holding only ---.")
    default_model = forms.ChoiceField(required=False, choices=(), help_text="The model drafts in this style use unless the writer picks another.")
    system_prompt_override = forms.CharField(
        required=False, label="System prompt", widget=forms.Textarea(attrs={"rows": 8}),
        help_text="Leave blank to use the prompt generated from the fields above; write here to use your own.",
    )

    PARAM_FIELDS = STYLE_PARAMS

    def __init__(self, workspace, *args, **kwargs):
        from catalog.services import model_choices

        super().__init__(*args, **kwargs)
        self._add_param_fields()
        self.fields["default_model"].choices = [("", "The workspace default")] + [
            (choice.key, choice.label) for choice in model_choices(workspace)]

    def _add_param_fields(self) -> None:
        """The sampling fields (from the one schema), placed before the default model."""
        fields = list(self.fields.items())
        at = [name for name, _ in fields].index("default_model")
        add_param_fields(self, self.PARAM_FIELDS)
        params = {name: self.fields.pop(name) for name in self.PARAM_FIELDS}
        self.fields = {**dict(fields[:at]), **params, **dict(fields[at:])}
        for name in self.PARAM_FIELDS:
            self.fields[name].initial = DEFAULT_PARAMS[name]
            self.fields[name].widget.attrs["placeholder"] = DEFAULT_PARAMS[name]

    def params_have_errors(self) -> bool:
        """Open the collapsed parameters section when one of its fields needs attention."""
        return any(self.errors.get(name) for name in (*self.PARAM_FIELDS, "default_model"))

    def service_fields(self) -> dict:
        data = dict(self.cleaned_data)
        chosen = {name: data.pop(name) for name in self.PARAM_FIELDS}
        data["default_params"] = {name: DEFAULT_PARAMS[name] if value is None else value for name, value in chosen.items()}
        return data

    @classmethod
    def initial_from(cls, profile) -> dict:
        version = profile.current
        initial = {name: getattr(version, name) for name in (
            "voice", "audience", "tone", "reading_level", "do_rules", "dont_rules", "banned_words",
            "examples", "system_prompt_override")}
        initial["default_model"] = version.default_model_name
        initial.update({name: clamp(name, value) for name, value in version.params().items() if name in STYLE_PARAMS})
        initial["name"] = profile.name
        return initial
