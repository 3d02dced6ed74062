"""The fine-tuning settings an admin may change, as form fields, API fields and checks, all
derived from `generation.finetune.FinetuneParams` (the one definition: its types, help texts
and checks)."""

import dataclasses
import typing

from django import forms
from rest_framework import serializers

from generation.finetune import FinetuneParams

# FinetuneParams fields an admin may change on the new-run page (the rest are the platform's).
EDITABLE_PARAMS = (
    "epochs", "max_steps", "learning_rate", "batch_size", "grad_accum", "max_seq_len", "pack",
    "lora_r", "lora_alpha", "lora_dropout", "lora_target_modules", "warmup_ratio", "lr_scheduler",
    "weight_decay", "max_grad_norm", "seed", "save_steps",
)
LORA_ONLY = ("lora_r", "lora_alpha", "lora_dropout", "lora_target_modules")
# Lowest values the form and the API enforce themselves; the other settings' lower limits are
# FinetuneParams' checks, whose messages name the real limit (batch_size >= 1, max_seq_len >= 8).
# A seed below 0 passed FinetuneParams and failed the run when training started (numpy).
INT_MIN = {"max_steps": -1, "seed": 0}
INT_MAX = 10**9


def int_min(name: str) -> int | None:
    return INT_MIN.get(name)
CHOICES = {"lr_scheduler": ("linear", "cosine", "constant")}
_FIELDS = {f.name: f for f in dataclasses.fields(FinetuneParams)}
_HINTS = typing.get_type_hints(FinetuneParams)


def editable_fields() -> list[dataclasses.Field]:
    return [_FIELDS[name] for name in EDITABLE_PARAMS]


def kind(name: str) -> type:
    """int, float, bool, str, or tuple (a comma-separated list of names)."""
    hint = _HINTS[name]
    if typing.get_origin(hint) is tuple:
        return tuple
    for simple in (bool, int, float, str):
        if hint is simple or simple in typing.get_args(hint):
            return simple
    return tuple


LABELS = {"lr_scheduler": "Learning-rate schedule", "max_seq_len": "Max tokens per example",
          "grad_accum": "Gradient accumulation", "max_grad_norm": "Gradient clipping norm"}


def label(name: str) -> str:
    if name in LABELS:
        return LABELS[name]
    return name.replace("_", " ").capitalize().replace("Lora", "LoRA")


def help_text(name: str) -> str:
    return _FIELDS[name].metadata.get("help", "")


def as_text(name: str, value) -> str:
    """How a value shows in a form field and in the plan."""
    if kind(name) is tuple:
        return ", ".join(value) if isinstance(value, list | tuple) else str(value)
    return "" if value is None else str(value)


def params_errors(params: dict) -> dict[str, str]:
    """{field: problem} of settings, as FinetuneParams itself checks them."""
    unknown = sorted(set(params) - set(EDITABLE_PARAMS))
    if unknown:
        return {"params": f"Unknown setting{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}. "
                          f"Settings: {', '.join(EDITABLE_PARAMS)}."}
    for name, choices in CHOICES.items():
        if name in params and params[name] not in choices:
            return {name: f"Choose one of {', '.join(choices)}."}
    for name, low in INT_MIN.items():  # checked here too for `manage.py train --set`
        if isinstance(params.get(name), int) and params[name] < low:
            return {name: f"{label(name)} must be >= {low}."}
    try:
        FinetuneParams(output_dir="check", **params)
    except (TypeError, ValueError) as exc:
        message = str(exc)
        name = next((n for n in EDITABLE_PARAMS if message.startswith(n)), "params")
        if name != "params":
            message = label(name) + message[len(name):]
        return {name: message[0].upper() + message[1:] + "."}
    return {}


def form_field(name: str) -> forms.Field:
    common = {"required": False, "label": label(name), "help_text": help_text(name)}
    field_kind = kind(name)
    if name in CHOICES:
        return forms.ChoiceField(choices=[(c, c) for c in CHOICES[name]], **common)
    if field_kind is bool:
        return forms.BooleanField(**common)
    if field_kind is int:
        return forms.IntegerField(widget=forms.NumberInput(attrs={"step": "1"}), **common)
    if field_kind is float:
        return forms.FloatField(widget=forms.NumberInput(attrs={"step": "any"}), **common)
    return forms.CharField(max_length=300, **common)


def serializer_field(name: str) -> serializers.Field:
    common = {"required": False, "help_text": help_text(name)}
    field_kind = kind(name)
    if name in CHOICES:
        return serializers.ChoiceField(choices=CHOICES[name], **common)
    if field_kind is bool:
        return serializers.BooleanField(**common)
    if field_kind is int:
        return serializers.IntegerField(min_value=int_min(name), max_value=INT_MAX, **common)
    if field_kind is float:
        return serializers.FloatField(min_value=0, max_value=1e6, **common)
    return serializers.ListField(child=serializers.CharField(max_length=100), max_length=64, **common)
