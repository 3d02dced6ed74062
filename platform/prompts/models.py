from django.conf import settings
from django.db import models
from django.urls import reverse

from core.versioning import Version
from prompts.rendering import Variable


class Category(models.TextChoices):
    BLOG_POST = "blog_post", "Blog post"
    PRODUCT_ANNOUNCEMENT = "product_announcement", "Product announcement"
    SOCIAL_POSTS = "social_posts", "Social posts"
    NEWSLETTER = "newsletter", "Newsletter"
    EMAIL = "email", "Email"
    CUSTOMER_REPLY = "customer_reply", "Customer-service reply"
    SUMMARY = "summary", "Summary"
    LESSON_PLAN = "lesson_plan", "Lesson plan"
    QUIZ = "quiz", "Quiz"
    WORKSHEET = "worksheet", "Worksheet"
    READING_PASSAGE = "reading_passage", "Reading passage"
    FREE = "free", "Free"


class PromptTemplate(models.Model):
    """A named prompt with `{variables}`. Its text lives in immutable versions."""

    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="prompt_templates")
    name = models.CharField(max_length=120)
    category = models.CharField(max_length=32, choices=Category.choices, default=Category.FREE)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    current = models.ForeignKey("PromptTemplateVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="unique_prompt_name_per_workspace")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("prompt_detail", args=[self.pk])


class PromptTemplateVersion(Version):
    """One saved state of a template. Never edited: saving makes the next version."""

    OWNER_FIELD = "template"

    template = models.ForeignKey(PromptTemplate, on_delete=models.CASCADE, related_name="versions")
    body = models.TextField()
    variables = models.JSONField(default=list)

    class Meta(Version.Meta):
        constraints = [models.UniqueConstraint(fields=["template", "number"], name="unique_prompt_version_number")]

    def __str__(self) -> str:
        return f"{self.template} v{self.number}"

    def variable_list(self) -> list[Variable]:
        return [Variable(**{**item, "choices": tuple(item.get("choices") or ())}) for item in self.variables]
