from django import forms

from corpora.parsing import DELIMITERS
from corpora.services import UploadOptions

DELIMITER_CHOICES = [(",", "Comma (,)"), (";", "Semicolon (;)"), ("\t", "Tab"), ("|", "Pipe (|)")]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(item, initial) for item in data]
        return [super().clean(data, initial)] if data else []


class UploadOptionsForm(forms.Form):
    files = MultipleFileField(
        allow_empty_file=True,  # the parser reports an empty file by name, with the others
        help_text="JSONL (prompt/completion or messages), CSV, plain text or Markdown. "
        "Several files at once are fine.",
        widget=MultipleFileInput(attrs={"accept": ".jsonl,.json,.ndjson,.csv,.tsv,.txt,.md,.markdown"}),
    )
    text_separator = forms.CharField(
        required=False, max_length=40, label="Separator for text files",
        help_text="For .txt and .md files: a line holding only this (e.g. ---) starts a new "
        "document. Leave empty for one document per file.",
    )
    csv_delimiter = forms.ChoiceField(choices=DELIMITER_CHOICES, initial=",", required=False, label="CSV delimiter")
    csv_prompt_column = forms.CharField(required=False, max_length=200, label="Prompt column")
    csv_completion_column = forms.CharField(required=False, max_length=200, label="Completion column")
    csv_text_column = forms.CharField(required=False, max_length=200, label="Text column")
    keep_valid_rows = forms.BooleanField(
        required=False, label="Keep only the valid rows",
        help_text="Store the rows that pass and list the skipped ones on the version page, "
        "instead of rejecting the whole upload.",
    )

    def clean(self):
        data = super().clean()
        if data.get("csv_delimiter") not in DELIMITERS:
            data["csv_delimiter"] = ","
        try:
            data["options"] = UploadOptions(
                text_separator=data.get("text_separator") or "",
                csv_delimiter=data["csv_delimiter"],
                csv_prompt_column=data.get("csv_prompt_column") or "",
                csv_completion_column=data.get("csv_completion_column") or "",
                csv_text_column=data.get("csv_text_column") or "",
                keep_valid_rows=bool(data.get("keep_valid_rows")),
            )
        except ValueError as exc:
            raise forms.ValidationError(f"CSV columns: {exc}.") from None
        return data


class DatasetCreateForm(UploadOptionsForm):
    name = forms.CharField(max_length=120)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    field_order = ["name", "description", "files"]


class DatasetEditForm(forms.Form):
    name = forms.CharField(max_length=120)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))


class SplitForm(forms.Form):
    validation_fraction = forms.FloatField(
        min_value=0.01, max_value=0.9, initial=0.1, label="Validation share",
        widget=forms.NumberInput(attrs={"step": "0.01"}),
        help_text="Share of records held out for validation (0.01–0.9).",
    )
    seed = forms.IntegerField(initial=42, min_value=0, help_text="The same seed gives the same split.")


class ArticleIdsField(forms.Field):
    """The ids of the ticked articles (checkboxes named "articles"); the service checks each one."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        from core.fields import parse_id

        ids = [parse_id(v) for v in value or []]
        if None in ids:
            raise forms.ValidationError("Articles are named by their ids, e.g. 12.")
        return ids


class ArticlesToDatasetForm(forms.Form):
    dataset = forms.ModelChoiceField(
        queryset=None, empty_label="Choose a dataset…", label="Add them to",
        error_messages={"required": "Choose the dataset to add them to.",
                        "invalid_choice": "Choose one of this workspace's datasets."},
    )
    articles = ArticleIdsField(required=False)
    note = forms.CharField(required=False, max_length=200, label="Note (optional)",
                           help_text="Shown with the new version, e.g. “March newsletter batch”.")

    def __init__(self, *args, workspace, **kwargs):
        from corpora.selectors import dataset_list

        super().__init__(*args, **kwargs)
        self.fields["dataset"].queryset = dataset_list(workspace=workspace).order_by("name")
        self.fields["dataset"].label_from_instance = self.dataset_label

    @staticmethod
    def dataset_label(dataset) -> str:
        if dataset.latest_number is None:
            return f"{dataset.name} (no versions yet)"
        records = dataset.latest_records or 0
        return f"{dataset.name} (v{dataset.latest_number}, {records:,} record{'' if records == 1 else 's'})"
