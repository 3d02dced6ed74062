from django.conf import settings
from django.db import models
from django.urls import reverse


class Article(models.Model):
    """A piece of writing: drafted by one or more generations, then edited by people."""

    class Source(models.TextChoices):
        TEMPLATE = "template", "From a template"
        FREE = "free", "Free prompt"
        REWRITE = "rewrite", "Rewrite in another voice"

    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="articles")
    title = models.CharField(max_length=200)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.FREE)
    body = models.TextField(blank=True, help_text="The chosen text, as people edit it.")
    chosen = models.ForeignKey("Generation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("article_detail", args=[self.pk])


class Generation(models.Model):
    """One model run writing one variant. The database row is the truth about its text."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Writing"
        COMPLETED = "completed", "Done"
        CANCELLED = "cancelled", "Cancelled"
        INTERRUPTED = "interrupted", "Interrupted"
        FAILED = "failed", "Failed"

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="generations")
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="generations")
    variant = models.PositiveSmallIntegerField(default=1)
    kind = models.CharField(max_length=16, default="draft", help_text="draft, regenerate or continue")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    text = models.TextField(blank=True)
    seq = models.PositiveIntegerField(default=0, help_text="Sequence number of the last piece included in text.")
    cancel_requested = models.BooleanField(default=False)
    error = models.TextField(blank=True)
    # provenance
    model_name = models.TextField(help_text="The spec the worker loads (generation.models.ModelSpec).")
    model_version = models.ForeignKey("catalog.ModelVersion", null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="generations", help_text="Blank: the default model.")
    template_version = models.ForeignKey("prompts.PromptTemplateVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    style_version = models.ForeignKey("styles.StyleProfileVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    variables = models.JSONField(default=dict, blank=True)
    prompt = models.TextField(help_text="The rendered user prompt.")
    system_prompt = models.TextField(blank=True)
    prefix = models.TextField(blank=True, help_text="Text the model continues (for 'continue writing').")
    prefill = models.TextField(blank=True, help_text="Start of the model's own answer that this run continues "
                                                     "(a retry of a run cut short); the end of `prefix`.")
    params = models.JSONField(default=dict)
    seed = models.BigIntegerField()
    # usage
    prompt_tokens = models.PositiveIntegerField(null=True, blank=True)
    completion_tokens = models.PositiveIntegerField(null=True, blank=True)
    time_to_first_token_s = models.FloatField(null=True, blank=True)
    tokens_per_s = models.FloatField(null=True, blank=True)
    finish_reason = models.CharField(max_length=16, blank=True)
    # queue and worker
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=300, blank=True, help_text="host:pid of the worker running it")
    heartbeat_at = models.DateTimeField(null=True, blank=True, help_text="Touched every few seconds while running.")
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["article", "variant", "created_at"]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.article} · variant {self.variant} ({self.get_status_display()})"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    def owner_ids(self) -> set[int]:
        """Who steers this run as its own: whoever started it and the article's writer."""
        return {self.created_by_id, self.article.created_by_id} - {None}

    def group_name(self) -> str:
        return generation_group(self.pk)


def generation_group(generation_id: int) -> str:
    """The channel-layer group that carries one generation's live events."""
    return f"generation.{generation_id}"


def article_group(article_id: int) -> str:
    """The group told when a new generation joins an article."""
    return f"article.{article_id}"
