"""Sampling parameters as form fields, API fields and checks, all derived from
`generation.params` (the one definition) plus this deployment's ceiling on length
(INKSTONE_MAX_NEW_TOKENS)."""

from django import forms
from django.conf import settings
from rest_framework import serializers

from core.api import InputSerializer
from generation.params import PARAMS_BY_NAME, SAMPLING_PARAMS, SEED, ParamSpec, params_problems

# What a style stores as its defaults and what the draft form offers; the API also takes
# min_new_tokens (benchmarks and scripts force a length with it).
STYLE_PARAMS = ("temperature", "top_p", "top_k", "max_new_tokens", "repetition_penalty")
LENGTH_PARAMS = ("max_new_tokens", "min_new_tokens")


def max_new_tokens_ceiling() -> int:
    """The longest answer this deployment writes (never above the library's own maximum)."""
    return min(settings.INKSTONE_MAX_NEW_TOKENS, PARAMS_BY_NAME["max_new_tokens"].maximum)


def _top(spec: ParamSpec):
    return min(spec.maximum, max_new_tokens_ceiling()) if spec.name in LENGTH_PARAMS else spec.maximum


def params_errors(params: dict) -> dict[str, str]:
    """{name: problem} of a partial parameter dict against the schema and this deployment."""
    return params_problems(params, max_new_tokens=max_new_tokens_ceiling())


def form_field(spec: ParamSpec, *, required: bool = False, initial=None, placeholder: str = "") -> forms.Field:
    field_class = forms.IntegerField if spec.type is int else forms.FloatField
    # Any value in range: a browser's step check would refuse 0.72 (and say so nowhere in a
    # collapsed section).
    attrs = {"step": "1" if spec.type is int else "any"}
    if placeholder:
        attrs["placeholder"] = placeholder
    return field_class(
        required=required, min_value=spec.minimum, max_value=_top(spec), initial=initial,
        label=spec.label, help_text=spec.help, widget=forms.NumberInput(attrs=attrs),
    )


def add_param_fields(form: forms.Form, names=STYLE_PARAMS, *, required: bool = False, placeholder: str = "") -> None:
    """Add one field per parameter to a form instance (at request time, so the ceiling is current)."""
    for name in names:
        spec = PARAMS_BY_NAME[name]
        form.fields[name] = form_field(spec, required=required, initial=spec.default if required else None,
                                       placeholder=placeholder)


def clamp(name: str, value):
    """A stored value brought inside the parameter's current range (the server's limit may have
    fallen since it was saved), so that a form showing it can be submitted."""
    spec = PARAMS_BY_NAME[name]
    return min(max(value, spec.minimum), _top(spec))


def seed_form_field() -> forms.IntegerField:
    return forms.IntegerField(required=False, min_value=SEED.minimum, max_value=SEED.maximum,
                              label=SEED.label, help_text=SEED.help)


def seed_api_field(**kwargs) -> serializers.IntegerField:
    kwargs.setdefault("help_text", SEED.help)
    return serializers.IntegerField(min_value=SEED.minimum, max_value=SEED.maximum, **kwargs)


def _api_field(spec: ParamSpec) -> serializers.Field:
    field_class = serializers.IntegerField if spec.type is int else serializers.FloatField
    help_text = spec.help
    if spec.name in LENGTH_PARAMS:
        help_text += " The server may set a lower limit (INKSTONE_MAX_NEW_TOKENS)."
    return field_class(required=False, min_value=spec.minimum, max_value=spec.maximum,
                       help_text=f"{help_text} Default {spec.default}.")


class _ParamsSerializerBase(InputSerializer):
    def validate(self, attrs):
        errors = params_errors(attrs)
        if errors:
            raise serializers.ValidationError({name: [message] for name, message in errors.items()})
        return attrs


def params_serializer(name: str, names) -> type[serializers.Serializer]:
    """A serializer class holding the given parameters, each optional, ranges from the schema."""
    fields = {n: _api_field(PARAMS_BY_NAME[n]) for n in names}
    return type(name, (_ParamsSerializerBase,), {**fields, "__doc__": "Sampling parameters."})


StyleParamsSerializer = params_serializer("StyleParams", STYLE_PARAMS)
GenerationParamsSerializer = params_serializer("GenerationParamsInput", [spec.name for spec in SAMPLING_PARAMS])
