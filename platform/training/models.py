"""Fine-tuning runs: what an admin asked for, what the worker did, step by step."""

from django.conf import settings
from django.db import models
from django.urls import reverse


class TrainingRun(models.Model):
    """One fine-tune of a base model on a dataset version, run by the `training` cluster.

    The row is the truth about the run; its steps are TrainingStep rows, and `seq` numbers the
    events pushed to watchers (steps, log lines, status) so that a page joining late is brought up
    to date from here and then only gets newer events.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Training"
        EVALUATING = "evaluating", "Evaluating"
        INTERRUPTED = "interrupted", "Interrupted"
        COMPLETED = "completed", "Finished"
        CANCELLED = "cancelled", "Cancelled"
        FAILED = "failed", "Failed"

    class Method(models.TextChoices):
        LORA = "lora", "LoRA adapter"
        FULL = "full", "Full fine-tune"

    class Preset(models.TextChoices):
        QUICK = "quick", "Quick"
        BALANCED = "balanced", "Balanced"
        THOROUGH = "thorough", "Thorough"

    ACTIVE = (Status.QUEUED, Status.RUNNING, Status.EVALUATING, Status.INTERRUPTED)
    WORKING = (Status.RUNNING, Status.EVALUATING)
    DONE = (Status.COMPLETED, Status.CANCELLED, Status.FAILED)

    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="training_runs")
    name = models.CharField(max_length=100, help_text="The name its model gets in the catalog; also its folder.")
    # what was asked for
    dataset_version = models.ForeignKey("corpora.DatasetVersion", null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="training_runs")
    dataset_label = models.CharField(max_length=200, help_text="Dataset and version, kept when they are deleted.")
    data_hash = models.CharField(max_length=64, blank=True)
    base_model = models.ForeignKey("catalog.ModelVersion", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", help_text="Blank: the bundled default model.")
    base_label = models.CharField(max_length=200)
    base_spec = models.TextField(help_text="What the worker loads as the base (generation.models.ModelSpec).")
    method = models.CharField(max_length=8, choices=Method.choices, default=Method.LORA)
    preset = models.CharField(max_length=16, choices=Preset.choices, default=Preset.QUICK)
    params = models.JSONField(default=dict, help_text="FinetuneParams fields (without output_dir).")
    plan = models.JSONField(default=dict, help_text="The estimate shown before launch, and why the preset chose its values.")
    validation = models.CharField(max_length=200, blank=True, help_text="Where the validation records come from.")
    output_dir = models.TextField(unique=True)
    processes = models.PositiveSmallIntegerField(default=1, help_text="Training processes (data parallel).")
    # what happened
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    cancel_requested = models.BooleanField(default=False)
    error = models.TextField(blank=True, help_text="What went wrong, in plain words.")
    log = models.TextField(blank=True)
    seq = models.PositiveIntegerField(default=0, help_text="Number of the last event pushed to watchers.")
    step = models.PositiveIntegerField(default=0)
    max_steps = models.PositiveIntegerField(default=0)
    epoch = models.FloatField(default=0)
    tokens_per_s = models.FloatField(null=True, blank=True)
    eta_s = models.FloatField(null=True, blank=True)
    metrics = models.JSONField(default=dict, blank=True, help_text="What finetune() reported at the end.")
    evaluation = models.JSONField(default=dict, blank=True, help_text="Base vs tuned: perplexity, samples, style fit.")
    model_version = models.OneToOneField("catalog.ModelVersion", null=True, blank=True, on_delete=models.SET_NULL,
                                         related_name="training_run", help_text="The candidate it produced.")
    # queue and worker
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=300, blank=True, help_text="host:pid of the worker running it")
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="unique_training_run_name")]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("training:run_detail", args=[self.pk])

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def progress_percent(self) -> int:
        if self.status == self.Status.COMPLETED:
            return 100
        return min(100, int(100 * self.step / self.max_steps)) if self.max_steps else 0

    def group_name(self) -> str:
        return training_group(self.pk)


class TrainingStep(models.Model):
    """Metrics after one optimizer step. One row per step: a resumed run overwrites the steps it
    trains again, so the chart never shows a step twice."""

    run = models.ForeignKey(TrainingRun, on_delete=models.CASCADE, related_name="steps")
    step = models.PositiveIntegerField()
    epoch = models.FloatField(default=0)
    train_loss = models.FloatField(null=True, blank=True)
    val_loss = models.FloatField(null=True, blank=True)
    learning_rate = models.FloatField(null=True, blank=True)
    tokens_per_s = models.FloatField(null=True, blank=True)
    at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["run", "step"]
        constraints = [models.UniqueConstraint(fields=["run", "step"], name="one_row_per_training_step")]

    def __str__(self) -> str:
        return f"{self.run} step {self.step}"


def training_group(run_id: int) -> str:
    """The channel-layer group that carries one run's live events."""
    return f"training.{run_id}"
