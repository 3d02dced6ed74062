"""The new-run form: what to train on, how, and the preset's settings (editable)."""

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator

from catalog.models import ModelVersion
from catalog.services import model_choices
from core.fields import parse_id
from training import params as run_params
from training.models import TrainingRun
from training.selectors import ready_versions
from training.services import RunRequest

PRESET_HELP = {
    "quick": "One pass, enough updates for a small dataset: minutes on a CPU.",
    "balanced": "More passes and a cosine schedule: a closer fit.",
    "thorough": "The most updates and a larger adapter: slowest.",
}
# The choices that change the preset's plan: when one of them changes, the settings are filled
# again from the new plan (see RunForm.overrides).
PLAN_CHOICES = ("dataset_version", "base_model", "method", "preset", "validation_fraction")


class RunForm(forms.Form):
    dataset_version = forms.ChoiceField(label="Dataset version")
    base_model = forms.ChoiceField(label="Base model")
    method = forms.ChoiceField(choices=TrainingRun.Method.choices, widget=forms.RadioSelect, initial="lora")
    preset = forms.ChoiceField(choices=TrainingRun.Preset.choices, widget=forms.RadioSelect, initial="quick")
    name = forms.CharField(max_length=100, required=False,
                           help_text="The fine-tuned model's name in the catalog, and its folder.")
    validation_fraction = forms.FloatField(
        required=False, initial=0.1, min_value=0.01, max_value=0.9, widget=forms.NumberInput(attrs={"step": "any"}),
        help_text="This version has no validation split: this share of its records is held out (seeded).")

    def __init__(self, *args, workspace, estimate_url: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.workspace = workspace
        self.versions = {v.pk: v for v in ready_versions(workspace=workspace)}
        groups: dict[str, list] = {}
        for v in self.versions.values():
            split = f"validation split of {v.validation_count}" if v.validation_count else "no validation split"
            groups.setdefault(v.dataset.name, []).append((str(v.pk), f"{v} · {v.record_count} records · {split}"))
        self.fields["dataset_version"].choices = list(groups.items())
        self.fields["base_model"].choices = [(c.key, c.label) for c in model_choices(workspace)
                                             if c.version is None or c.version.kind != ModelVersion.Kind.LORA]
        for name in run_params.EDITABLE_PARAMS:
            self.fields[name] = field = run_params.form_field(name)
            # Bounds as in the API (params.serializer_field); below them FinetuneParams' own checks name
            # the real limit. A FloatField is an IntegerField to Django, so floats are asked about first.
            if isinstance(field, forms.FloatField):
                field.validators.append(MaxValueValidator(1e6))
            elif isinstance(field, forms.IntegerField):
                field.validators.append(MaxValueValidator(run_params.INT_MAX))
                if run_params.int_min(name) is not None:
                    field.validators.append(MinValueValidator(run_params.int_min(name)))
        if estimate_url:  # any change asks for a new estimate (hx-target etc. come from the <form>)
            for name in (*PLAN_CHOICES, *run_params.EDITABLE_PARAMS):
                self.fields[name].widget.attrs.update({"hx-get": estimate_url, "hx-trigger": "change"})

    # --- reading it ------------------------------------------------------------------------
    def clean_dataset_version(self):
        version = self.versions.get(parse_id(self.cleaned_data["dataset_version"]))
        if version is None:
            raise forms.ValidationError("Pick a ready dataset version of this workspace.")
        return version

    def clean_lora_target_modules(self):
        text = self.cleaned_data.get("lora_target_modules") or ""
        names = tuple(n.strip() for n in text.split(",") if n.strip())
        return names or None

    def selected_version(self):
        """The chosen version even when the form is not valid (for the validation-split hint)."""
        return self.versions.get(parse_id(self.data.get("dataset_version"))) if self.is_bound else None

    def param_names(self) -> list[str]:
        method = self.data.get("method") if self.is_bound else self.initial.get("method", "lora")
        return [n for n in run_params.EDITABLE_PARAMS
                if not (method == TrainingRun.Method.FULL and n in run_params.LORA_ONLY)]

    def param_fields(self):
        return [self[name] for name in self.param_names()]

    def run_request(self, params: dict | None = None) -> RunRequest:
        data = self.cleaned_data
        fraction = data.get("validation_fraction")
        return RunRequest(dataset_version=data["dataset_version"], base_model=data["base_model"],
                          method=data["method"], preset=data["preset"], name=data.get("name", ""),
                          params=params or {}, validation_fraction=0.1 if fraction is None else fraction)

    def overrides(self, plan_params: dict) -> dict:
        """The settings the admin really changed: each submitted value that differs from the
        plan's own (a blank field keeps the plan's value). Only when the settings were shown."""
        if not self.data.get("params_shown"):
            return {}
        changed = {}
        for name in self.param_names():
            value = self.cleaned_data.get(name)
            if value is None and run_params.kind(name) is not bool:
                continue
            planned = plan_params.get(name)
            if run_params.kind(name) is tuple:
                planned = tuple(planned or ())
            elif run_params.kind(name) is float and value is not None and planned is not None:
                if abs(float(value) - float(planned)) <= 1e-12 * max(1.0, abs(float(planned))):
                    continue
            if value != planned:
                changed[name] = value
        return changed

    def fill_params(self, plan_params: dict) -> None:
        """Show `plan_params` in the settings fields (a new plan after a choice changed)."""
        data = self.data.copy()
        for name in run_params.EDITABLE_PARAMS:
            value = plan_params.get(name)
            if run_params.kind(name) is bool:
                if value:
                    data[name] = "on"
                else:
                    data.pop(name, None)
            else:
                data[name] = run_params.as_text(name, value)
        data["params_shown"] = "1"
        self.data = data
