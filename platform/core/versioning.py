"""Immutable numbered versions, said once for every versioned object (prompt templates, style
profiles, article revisions): the shared fields, adding the next version under a lock so two
saves never take the same number, making it the owner's current one, and restoring an old one."""

from django.conf import settings
from django.db import models
from django.db.models import Max

# The fields every version has; the rest (but the owner) are what the version saves.
BASE_FIELDS = frozenset({"id", "number", "note", "created_by", "created_at"})


class Version(models.Model):
    """One saved state of its owner. Never edited: saving makes the next version.

    Subclasses add a ForeignKey to their owner named `OWNER_FIELD` (with related_name="versions"
    or "revisions"), a UniqueConstraint on (owner, number), and `class Meta(Version.Meta)`.
    """

    OWNER_FIELD = ""

    number = models.PositiveIntegerField()
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["-number"]

    @property
    def owner(self):
        return getattr(self, self.OWNER_FIELD)

    @classmethod
    def of(cls, owner) -> models.QuerySet:
        """The owner's versions, newest first."""
        return cls.objects.filter(**{cls.OWNER_FIELD: owner})

    @classmethod
    def content_fields(cls) -> list[models.Field]:
        """The fields a version saves: all but the owner and the shared bookkeeping."""
        return [f for f in cls._meta.concrete_fields if f.name not in BASE_FIELDS | {cls.OWNER_FIELD}]

    def content(self) -> dict:
        """This version's saved fields, ready to save again (foreign keys by id)."""
        return {f.attname: getattr(self, f.attname) for f in self.content_fields()}


def version_add(model: type[Version], owner, *, user=None, note: str = "", **fields) -> Version:
    """Create the owner's next version. Call inside a transaction: the owner's row is locked so
    that concurrent saves number their versions one after the other."""
    type(owner).objects.select_for_update().filter(pk=owner.pk).first()
    latest = model.of(owner).aggregate(n=Max("number"))["n"] or 0
    return model.objects.create(**{model.OWNER_FIELD: owner}, number=latest + 1, created_by=user, note=note, **fields)


def version_add_current(model: type[Version], owner, *, user=None, note: str = "", **fields) -> Version:
    """version_add(), then point the owner's `current` at the new version (owners that keep one:
    prompt templates, style profiles). Call inside a transaction."""
    version = version_add(model, owner, user=user, note=note, **fields)
    owner.current = version
    owner.save(update_fields=["current", "updated_at"])
    return version


def version_save(model: type[Version], owner, *, user=None, note: str = "", **fields) -> Version | None:
    """Make `fields` the owner's current version: a new one only when they differ from the
    current one's (returns None when nothing changed). Call inside a transaction."""
    current = owner.current
    if current is not None and all(getattr(current, name) == value for name, value in fields.items()):
        return None
    return version_add_current(model, owner, user=user, note=note, **fields)


def version_restore(model: type[Version], owner, number: int, *, user=None) -> Version:
    """Restoring never rewrites history: version `number`'s content becomes the newest, current
    version. Raises model.DoesNotExist when the owner has no such version. Call inside a transaction."""
    old = model.of(owner).get(number=number)
    return version_add_current(model, owner, user=user, note=f"Restored v{number}", **old.content())
