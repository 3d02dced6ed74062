from django import forms


class RegisterModelForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="How writers and the API pick it, e.g. saltbeard-lora. It cannot be changed later.")
    source = forms.CharField(
        max_length=500, label="Path or hub id",
        help_text="A model directory, a LoRA adapter directory (from `python -m generation finetune`), "
                  "a .gguf file on the workers' disk, or a hub id already in their local cache.",
    )
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))


class DescriptionForm(forms.Form):
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3, "aria-label": "Description"}))
