from django.conf import settings
from django.db import models
from django.urls import reverse

from core.sampling import STYLE_PARAMS
from core.versioning import Version
from generation.params import PARAMS_BY_NAME
from styles.prompting import Voice, build_system_prompt, lines, passages, words

# A style's defaults: the schema's defaults, with a length suited to an article.
DEFAULT_PARAMS = {**{name: PARAMS_BY_NAME[name].default for name in STYLE_PARAMS}, "max_new_tokens": 400}


class StyleProfile(models.Model):
    """A brand or classroom voice. Its settings live in immutable versions."""

    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="style_profiles")
    name = models.CharField(max_length=120)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    current = models.ForeignKey("StyleProfileVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="unique_style_name_per_workspace")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("style_detail", args=[self.pk])


class StyleProfileVersion(Version):
    """One saved state of a style. Never edited: saving makes the next version."""

    OWNER_FIELD = "profile"

    profile = models.ForeignKey(StyleProfile, on_delete=models.CASCADE, related_name="versions")
    voice = models.TextField(blank=True, help_text="How the writing sounds, in a few sentences.")
    audience = models.CharField(max_length=300, blank=True)
    tone = models.CharField(max_length=200, blank=True)
    reading_level = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Target US grade level (1-16).")
    do_rules = models.TextField(blank=True, help_text="One rule per line.")
    dont_rules = models.TextField(blank=True, help_text="One rule per line.")
    banned_words = models.TextField(blank=True, help_text="Comma-separated or one per line.")
    examples = models.TextField(blank=True, help_text="Example passages, separated by a line with ---.")
    default_params = models.JSONField(default=dict)
    # Deleting the model (its confirmation page says so) makes the style use the workspace default.
    default_model = models.ForeignKey("catalog.ModelVersion", null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="style_versions", help_text="Empty: the workspace default.")
    system_prompt_override = models.TextField(blank=True, help_text="Blank: use the generated system prompt.")

    class Meta(Version.Meta):
        constraints = [models.UniqueConstraint(fields=["profile", "number"], name="unique_style_version_number")]

    def __str__(self) -> str:
        return f"{self.profile} v{self.number}"

    def as_voice(self) -> Voice:
        return Voice(
            name=self.profile.name, voice=self.voice, audience=self.audience, tone=self.tone,
            reading_level=self.reading_level, do_rules=lines(self.do_rules),
            dont_rules=lines(self.dont_rules), banned_words=words(self.banned_words),
            examples=passages(self.examples),
        )

    @property
    def default_model_name(self) -> str:
        """How forms, the API and model_resolve name it: "" for the workspace default."""
        return self.default_model.name if self.default_model_id else ""

    def generated_system_prompt(self) -> str:
        return build_system_prompt(self.as_voice())

    @property
    def system_prompt(self) -> str:
        """What generation uses: the editor's own text when given, else the generated one."""
        return self.system_prompt_override.strip() or self.generated_system_prompt()

    def params(self) -> dict:
        return {**DEFAULT_PARAMS, **(self.default_params or {})}
