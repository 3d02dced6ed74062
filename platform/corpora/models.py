from django.conf import settings
from django.db import models
from django.urls import reverse

from accounts.models import Workspace


class Dataset(models.Model):
    """A named collection of example texts in one workspace. Its content lives in versions."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="datasets")
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "name"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="unique_dataset_name_per_workspace")
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("corpora:dataset_detail", args=[self.pk])


class ProblemReport(models.Model):
    """What was wrong with an upload's files: {"problems": [{"file", "line", "reason"}, ...], "total": n}
    (only the first problems are kept; `total` counts them all)."""

    error_report = models.JSONField(default=dict, blank=True)

    class Meta:
        abstract = True

    @property
    def problems(self) -> list[dict]:
        return self.error_report.get("problems", []) if self.error_report else []

    @property
    def problem_total(self) -> int:
        return self.error_report.get("total", 0) if self.error_report else 0


class DatasetVersion(ProblemReport):
    """One immutable state of a dataset. A training run refers to an exact version.

    Its error_report lists why it failed (versions from before uploads were tracked), or the rows
    skipped when the uploader kept only the valid rows.
    """

    class Status(models.TextChoices):
        PROCESSING = "processing", "Processing"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"  # no longer made: a rejected upload now leaves no version

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    parent = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="children",
        help_text="The version this one was derived from.",
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PROCESSING)
    note = models.CharField(max_length=500, help_text="Where this version came from.")
    record_count = models.PositiveIntegerField(default=0)
    token_count = models.PositiveBigIntegerField(default=0)
    stats = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["dataset", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["dataset", "number"], name="unique_version_number")
        ]

    def __str__(self) -> str:
        return f"{self.dataset} v{self.number}"

    def get_absolute_url(self) -> str:
        return reverse("corpora:version_detail", args=[self.dataset_id, self.number])

    @property
    def workspace_id(self) -> int:
        return self.dataset.workspace_id


class Record(models.Model):
    """One training example, stored in its original shape (prompt/completion, messages or text)."""

    class Kind(models.TextChoices):
        INSTRUCTION = "instruction", "Prompt and completion"
        CHAT = "chat", "Chat"
        TEXT = "text", "Text"

    class Split(models.TextChoices):
        NONE = "", "Unsplit"
        TRAIN = "train", "Train"
        VALIDATION = "validation", "Validation"

    version = models.ForeignKey(DatasetVersion, on_delete=models.CASCADE, related_name="records")
    index = models.PositiveIntegerField(help_text="Position in the version, from 1.")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    data = models.JSONField()
    split = models.CharField(max_length=16, choices=Split.choices, default=Split.NONE, blank=True)
    token_count = models.PositiveIntegerField(default=0)
    source = models.CharField(max_length=300, blank=True, help_text="File and line it came from.")
    article = models.ForeignKey("articles.Article", null=True, blank=True, on_delete=models.SET_NULL, related_name="records",
                                help_text="The approved article this record was made from, if any.")

    class Meta:
        ordering = ["version", "index"]
        constraints = [
            models.UniqueConstraint(fields=["version", "index"], name="unique_record_index")
        ]

    def __str__(self) -> str:
        return f"#{self.index} of {self.version}"


class Upload(ProblemReport):
    """An upload a worker parses (those over INKSTONE_UPLOAD_ASYNC_BYTES), tracked apart from its
    dataset: a rejected upload leaves no dataset or version behind, and this row keeps its status
    and problems for the page the uploader watches and for API clients."""

    class Status(models.TextChoices):
        PROCESSING = "processing", "Processing"
        STORED = "stored", "Stored"
        REJECTED = "rejected", "Rejected"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="dataset_uploads")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    dataset = models.ForeignKey(
        Dataset, on_delete=models.SET_NULL, null=True, blank=True, related_name="uploads",
        help_text="The dataset it creates or adds to; empty once that is gone.",
    )
    version = models.OneToOneField(
        DatasetVersion, on_delete=models.SET_NULL, null=True, blank=True, related_name="upload",
        help_text="The version it fills; empty once that is gone.",
    )
    dataset_name = models.CharField(max_length=120, help_text="Shown when the dataset is gone.")
    new_dataset = models.BooleanField(default=True, help_text="It creates its dataset (else it adds files).")
    file_names = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PROCESSING)
    progress_done = models.PositiveBigIntegerField(default=0, help_text="Bytes read so far.")
    progress_total = models.PositiveBigIntegerField(default=0)
    # Files waiting for the worker, [{"name", "path", "size"}], and how to read them; emptied when done.
    sources = models.JSONField(default=list, blank=True)
    options = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Upload of {', '.join(self.file_names)} to {self.dataset_name}"

    def get_absolute_url(self) -> str:
        return reverse("corpora:upload_detail", args=[self.pk])

    @property
    def progress_percent(self) -> int:
        if not self.progress_total:
            return 0
        return min(100, int(100 * self.progress_done / self.progress_total))
