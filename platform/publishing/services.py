"""Scheduled publishing and unpublishing.

An editor sets a time; the article keeps it (`publish_at`, `unpublish_at`) and a django-q2
schedule (type ONCE, one per article and action) runs `publishing.tasks.scheduled_transition`
then. The task moves the article through `articles.workflow.article_transition` only if it is
still due: the transition clears the time, so a second run (the ORM broker is at-least-once), a
schedule left behind by a cancelled or moved time, or one that fires after someone published by
hand, changes nothing.

The schedules belong to the default ("generation") cluster: its scheduler turns a due schedule
into a task on its own queue, about every 30 seconds (django-q2's scheduler tick).
"""

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_q.models import Schedule

from accounts.permissions import check
from articles.models import Article
from articles.workflow import MOVES, TransitionNotAllowed, article_transition

S = Article.Status
TASK = "publishing.tasks.scheduled_transition"
FIELDS = {"publish": "publish_at", "unpublish": "unpublish_at"}


class ScheduleError(Exception):
    """Refused schedule; `errors` maps a field (publish_at, unpublish_at) to its message."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__(" ".join(errors.values()))


def schedule_name(article_id: int, action: str) -> str:
    return f"publishing:{action}:{article_id}"


def schedule_cluster() -> str:
    """The cluster whose scheduler runs publishing schedules (and whose workers run the task)."""
    return settings.Q_CLUSTER["name"]


@transaction.atomic
def schedule(*, article: Article, membership, publish_at=None, unpublish_at=None) -> Article:
    """Set (or, with None, cancel) when the article is published and unpublished.

    Editors only (articles.publish). `publish_at` must be in the future and the article approved
    or unpublished; `unpublish_at` must be in the future, after `publish_at`, and the article
    published or about to be. Raises ScheduleError naming the field.
    """
    check(membership, "articles.publish", article)
    article = Article.objects.select_for_update().get(pk=article.pk)
    now = timezone.now()
    errors = {}
    if publish_at is not None:
        if publish_at <= now:
            errors["publish_at"] = "Publish at: choose a time in the future."
        elif article.status not in MOVES["publish"].sources:
            errors["publish_at"] = (f"Publish at: only approved or unpublished articles can be scheduled "
                                    f"(this one: {article.get_status_display().lower()}).")
        elif not article.body.strip():
            errors["publish_at"] = "Publish at: the article has no text yet."
    if unpublish_at is not None:
        if unpublish_at <= now:
            errors["unpublish_at"] = "Unpublish at: choose a time in the future."
        elif publish_at is not None and unpublish_at <= publish_at:
            errors["unpublish_at"] = "Unpublish at: choose a time after the publishing time."
        elif publish_at is None and article.status != S.PUBLISHED:
            errors["unpublish_at"] = "Unpublish at: the article is not published; schedule its publishing too."
    if errors:
        raise ScheduleError(errors)
    article.publish_at, article.unpublish_at = publish_at, unpublish_at
    article.save(update_fields=["publish_at", "unpublish_at", "updated_at"])
    for action, field in FIELDS.items():
        _set_schedule(article.pk, action, getattr(article, field))
    return article


def schedule_cancel(*, article: Article, membership) -> Article:
    return schedule(article=article, membership=membership)


def _set_schedule(article_id: int, action: str, when) -> None:
    """Exactly one ONCE schedule per article and action at `when`; none when `when` is None."""
    name = schedule_name(article_id, action)
    existing = Schedule.objects.filter(name=name)
    if when is None:
        existing.delete()
        return
    if existing.update(next_run=when, repeats=-1):
        return
    Schedule.objects.create(
        name=name, func=TASK, args=repr((article_id, action)), schedule_type=Schedule.ONCE,
        repeats=-1, next_run=when, cluster=schedule_cluster(),
    )


@dataclass(frozen=True)
class Outcome:
    moved: bool
    reason: str


def scheduled_transition_run(*, article_id: int, action: str) -> Outcome:
    """Publish or unpublish the article if its scheduled time has come and it still can move.

    Safe to run any number of times: it moves the article at most once per scheduled time.
    """
    field = FIELDS[action]
    with transaction.atomic():
        article = Article.objects.select_for_update().filter(pk=article_id).first()
        if article is None:
            return Outcome(False, "the article no longer exists")
        when = getattr(article, field)
        if when is None:
            return Outcome(False, f"nothing scheduled ({field} is empty)")
        if when > timezone.now():
            return Outcome(False, f"not due before {when.isoformat()}")
        if article.status not in MOVES[action].sources:
            setattr(article, field, None)  # it cannot happen any more: forget it
            article.save(update_fields=[field, "updated_at"])
            return Outcome(False, f"the article is {article.get_status_display().lower()}")
        try:
            article_transition(article=article, action=action, scheduled=True,
                               comment=f"Scheduled for {when:%Y-%m-%d %H:%M} UTC.")
        except TransitionNotAllowed as exc:
            setattr(article, field, None)
            article.save(update_fields=[field, "updated_at"])
            return Outcome(False, str(exc))
    return Outcome(True, f"{action}ed")


def schedule_summary(article: Article) -> str:
    """One line saying what is scheduled, for a message after saving."""
    parts = []
    if article.publish_at:
        parts.append(f"published on {article.publish_at:%Y-%m-%d at %H:%M} UTC")
    if article.unpublish_at:
        parts.append(f"unpublished on {article.unpublish_at:%Y-%m-%d at %H:%M} UTC")
    return f"It will be {' and '.join(parts)}." if parts else "Nothing is scheduled."
