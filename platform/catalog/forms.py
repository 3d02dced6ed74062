from django import forms

from catalog.models import DESCRIPTION_MAX_LENGTH, NAME_MAX_LENGTH, SOURCE_MAX_LENGTH


class RegisterModelForm(forms.Form):
    name = forms.CharField(max_length=NAME_MAX_LENGTH, help_text="How writers and the API pick it, e.g. saltbeard-lora. It cannot be changed later.")
    source = forms.CharField(
        max_length=SOURCE_MAX_LENGTH, label="Path or hub id",
        help_text="A model directory, a LoRA adapter directory (from `python -m generation finetune`), "
                  "a .gguf file on the workers' disk, or a hub id already in their local cache.",
    )
    description = forms.CharField(required=False, max_length=DESCRIPTION_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 3}))


class DescriptionForm(forms.Form):
    description = forms.CharField(required=False, max_length=DESCRIPTION_MAX_LENGTH,
                                  widget=forms.Textarea(attrs={"rows": 3, "aria-label": "Description"}))


class PromoteForm(forms.Form):
    reason = forms.CharField(
        required=False, max_length=DESCRIPTION_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why writers should use it. Required when it did not improve on its base.",
    )
