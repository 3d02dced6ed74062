"""Immutable numbered versions, said once for every versioned object (prompt templates, style
profiles, article revisions): the shared fields, and adding the next version under a lock so two
saves never take the same number."""

from django.conf import settings
from django.db import models
from django.db.models import Max


class Version(models.Model):
    """One saved state of its owner. Never edited: saving makes the next version.

    Subclasses add a ForeignKey to their owner named `OWNER_FIELD` (with related_name="versions"
    or "revisions") and a UniqueConstraint on (owner, number).
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


def version_add(model: type[Version], owner, *, user=None, note: str = "", **fields) -> Version:
    """Create the owner's next version. Call inside a transaction: the owner's row is locked so
    that concurrent saves number their versions one after the other."""
    type(owner).objects.select_for_update().filter(pk=owner.pk).first()
    latest = model.objects.filter(**{model.OWNER_FIELD: owner}).aggregate(n=Max("number"))["n"] or 0
    return model.objects.create(**{model.OWNER_FIELD: owner}, number=latest + 1, created_by=user, note=note, **fields)
