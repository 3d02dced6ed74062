from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.urls import reverse

MODEL_NAME_RE = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
# Longest values the form and the API accept (the stored source and spec may be longer: they
# are the real paths, links followed).
NAME_MAX_LENGTH = 100
SOURCE_MAX_LENGTH = 1000
DESCRIPTION_MAX_LENGTH = 4000
FINE_TUNE_KINDS = ("lora", "full", "merged")  # kinds a training run produces


class ModelVersion(models.Model):
    """A model a workspace may write with: a local model directory, a GGUF file, a hub id in the
    local cache, or a fine-tuned LoRA adapter over its base. The bundled default is always there
    and is not stored."""

    class Kind(models.TextChoices):
        MODEL = "model", "Model directory"
        GGUF = "gguf", "GGUF file"
        HUB = "hub", "Hub model (local cache)"
        LORA = "lora", "LoRA adapter"
        FULL = "full", "Full fine-tune"
        MERGED = "merged", "Merged adapter"

    class Status(models.TextChoices):
        CANDIDATE = "candidate", "Candidate"  # a finished training run's output, not offered to writers yet
        PROMOTED = "promoted", "Promoted"  # writers may pick it

    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="model_versions")
    name = models.CharField(
        max_length=NAME_MAX_LENGTH, validators=[RegexValidator(MODEL_NAME_RE, "Letters, digits, dots, dashes and underscores only.")],
        help_text="How writers and the API pick it, e.g. saltbeard-lora. Cannot be changed later.",
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    source = models.TextField(max_length=SOURCE_MAX_LENGTH, help_text="The path or hub id it was registered from.")
    spec = models.TextField(help_text="What the workers load (generation.models.ModelSpec).")
    base = models.TextField(blank=True, help_text="For an adapter: the base model it loads over.")
    description = models.TextField(blank=True, max_length=DESCRIPTION_MAX_LENGTH)
    metadata = models.JSONField(default=dict, blank=True, help_text="inkstone.json of a fine-tune: data, params, metrics.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.CANDIDATE)
    promoted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    promoted_at = models.DateTimeField(null=True, blank=True)
    promotion_reason = models.TextField(blank=True, help_text="Why an admin promoted it (required when it did not improve).")

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="unique_model_name_per_workspace")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("catalog:model_detail", args=[self.pk])

    @property
    def metrics(self) -> dict:
        return self.metadata.get("metrics") or {}

    @property
    def evaluation(self) -> dict:
        """The before/after evaluation of a fine-tune (see the evaluation contract); {} if none."""
        evaluation = self.metadata.get("evaluation")
        return evaluation if isinstance(evaluation, dict) else {}

    @property
    def is_candidate(self) -> bool:
        return self.status == self.Status.CANDIDATE
