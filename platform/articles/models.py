from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from core.versioning import Version


class Article(models.Model):
    """A piece of writing: drafted by one or more generations, then edited by people."""

    class Source(models.TextChoices):
        TEMPLATE = "template", "From a template"
        FREE = "free", "Free prompt"
        REWRITE = "rewrite", "Rewrite in another voice"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        IN_REVIEW = "in_review", "In review"
        CHANGES_REQUESTED = "changes_requested", "Changes requested"
        APPROVED = "approved", "Approved"
        PUBLISHED = "published", "Published"
        REJECTED = "rejected", "Rejected"
        ARCHIVED = "archived", "Archived"
        UNPUBLISHED = "unpublished", "Unpublished"

    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="articles")
    title = models.CharField(max_length=200)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.FREE)
    body = models.TextField(blank=True, help_text="The current text (the latest revision's), as people edit it.")
    chosen = models.ForeignKey("Generation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    revision = models.PositiveIntegerField(default=0, help_text="Number of the latest revision: the version a save "
                                                                "must start from (0: none yet).")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT, db_index=True)
    slug = models.SlugField(max_length=80, blank=True, help_text="Its public address, given on first publishing.")
    published_at = models.DateTimeField(null=True, blank=True)
    publish_at = models.DateTimeField(null=True, blank=True, help_text="Scheduled publishing.")
    unpublish_at = models.DateTimeField(null=True, blank=True, help_text="Scheduled unpublishing.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "slug"], condition=~Q(slug=""), name="unique_article_slug_per_workspace"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("article_detail", args=[self.pk])


SUGGESTION = "suggestion"  # Generation.kind of a "rewrite this paragraph" run


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
    style_fit = models.FloatField(null=True, blank=True, help_text="How close the text sounds to its style's example "
                                                                   "passages (generation.evaluate.style_fit, 0-1).")
    # "Rewrite this paragraph": a suggestion for a passage of the article, accepted or discarded.
    passage = models.TextField(blank=True, help_text="The passage of the article this run rewrites (kind 'suggestion').")
    outcome = models.CharField(max_length=16, blank=True, help_text="A suggestion's fate: accepted or discarded.")
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


class ArticleRevision(Version):
    """One saved state of an article's text. `authorship` says who wrote each stretch of it."""

    OWNER_FIELD = "article"

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="revisions")
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    generation = models.ForeignKey(Generation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                   help_text="The generation whose text this revision took in, if any.")
    authorship = models.JSONField(default=list, blank=True,
                                  help_text='Runs of [characters, "machine" | "human"] covering the body in order.')
    machine_share = models.FloatField(default=0.0, help_text="Share of the body's characters still machine-written (0-1).")

    class Meta(Version.Meta):
        constraints = [models.UniqueConstraint(fields=["article", "number"], name="unique_article_revision_number")]

    def __str__(self) -> str:
        return f"{self.article} r{self.number}"


class Transition(models.Model):
    """One step of an article's workflow: who moved it, from where to where, when and why."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="transitions")
    action = models.CharField(max_length=20)
    from_status = models.CharField(max_length=20, choices=Article.Status.choices)
    to_status = models.CharField(max_length=20, choices=Article.Status.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                              help_text="Blank: the scheduler.")
    comment = models.TextField(blank=True)
    revision = models.PositiveIntegerField(default=0, help_text="The article's revision at the time.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.article}: {self.from_status} → {self.to_status}"


class Review(models.Model):
    """A submission for review, open until an editor approves, rejects or asks for changes.
    The database allows one open review per article."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="reviews")
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    submitted_at = models.DateTimeField(auto_now_add=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    closed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=20, blank=True, help_text="approved, changes_requested or rejected")

    class Meta:
        ordering = ["-submitted_at"]
        constraints = [
            models.UniqueConstraint(fields=["article"], condition=Q(closed_at__isnull=True), name="one_open_review_per_article"),
        ]

    def __str__(self) -> str:
        return f"Review of {self.article} ({self.outcome or 'open'})"


class Comment(models.Model):
    """A remark on an article, optionally on a quoted passage of it."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    body = models.TextField()
    quote = models.TextField(blank=True, help_text="The passage it is about, if any.")
    revision = models.PositiveIntegerField(default=0, help_text="The article's revision when it was written.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"Comment on {self.article} by {self.author}"

    @property
    def workspace_id(self) -> int:
        return self.article.workspace_id

    def owner_ids(self) -> set[int]:
        return {self.author_id} - {None}
