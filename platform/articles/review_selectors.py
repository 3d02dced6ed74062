"""What the review queue, My drafts and the Published list show, and the article page's workflow
panel (moves, timeline, provenance). Pages and the API filter articles the same way through
`articles_filtered`."""

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import Membership
from articles.comments import latest_comments
from articles.models import Article, ArticleRevision, Generation, Review, Transition
from articles.workflow import MOVES, allowed_moves
from core.errors import FieldErrors
from core.fields import parse_id

S = Article.Status
MAX_AGE_DAYS = 36_500
SORTS = {
    "submitted": ("submitted_at", "pk"),  # oldest submission first: who has waited longest
    "-submitted": ("-submitted_at", "-pk"),
    "-updated": ("-updated_at", "-pk"),
}
FILTER_KEYS = ("status", "writer", "template", "style", "model", "older_than_days", "newer_than_days", "q", "sort")


def _id(params: dict, key: str, errors: dict) -> int | None:
    raw = params.get(key)
    if raw in (None, ""):
        return None
    value = parse_id(raw if isinstance(raw, int) else str(raw).strip())
    if value is None:
        errors[key] = f"“{raw}” is not an id: {key} takes the number of a {key} of this workspace."
    return value


def _days(params: dict, key: str, errors: dict) -> int | None:
    raw = params.get(key)
    if raw in (None, ""):
        return None
    try:
        value = int(str(raw).strip())
    except ValueError:
        value = None
    if value is None or not 0 <= value <= MAX_AGE_DAYS:
        errors[key] = f"“{raw}” is not a number of days: give a whole number from 0 to {MAX_AGE_DAYS:,}."
        return None
    return value


def articles_filtered(workspace, params: dict) -> QuerySet[Article]:
    """The workspace's articles narrowed by `params` (all optional; empty values are ignored):

    status: an Article.Status value; writer: a user id (who started it); template, style: a
    prompt template's or style profile's id; model: a model's name or "default" (the bundled
    model); older_than_days / newer_than_days: submitted for review more (less) than N days ago
    (never submitted: started); q: words in the title; sort: "submitted" (oldest submission first,
    the default), "-submitted" or "-updated".

    An article's template, style and model are those of any of its generations. Each article
    carries `submitted_at` (its latest submission, else its creation). Raises FieldErrors naming
    each bad parameter.
    """
    errors: dict[str, str] = {}
    articles = Article.objects.filter(workspace=workspace)
    status = str(params.get("status") or "").strip()
    if status:
        if status not in S.values:
            errors["status"] = f"“{status}” is not a status; the statuses are {', '.join(S.values)}."
        else:
            articles = articles.filter(status=status)
    if (writer := _id(params, "writer", errors)) is not None:
        articles = articles.filter(created_by_id=writer)
    generations = Generation.objects.filter(article=OuterRef("pk"))
    if (template := _id(params, "template", errors)) is not None:
        articles = articles.filter(Exists(generations.filter(template_version__template_id=template)))
    if (style := _id(params, "style", errors)) is not None:
        articles = articles.filter(Exists(generations.filter(style_version__profile_id=style)))
    model = str(params.get("model") or "").strip()
    if model == "default":
        articles = articles.filter(Exists(generations.filter(model_version__isnull=True)))
    elif model:
        if not workspace.model_versions.filter(name=model).exists():
            errors["model"] = f"No model named “{model}” in this workspace (or “default” for the bundled one)."
        articles = articles.filter(Exists(generations.filter(model_version__name=model)))
    latest_submission = Review.objects.filter(article=OuterRef("pk")).order_by("-submitted_at").values("submitted_at")[:1]
    articles = articles.annotate(submitted_at=Coalesce(Subquery(latest_submission), "created_at"))
    now = timezone.now()
    if (older := _days(params, "older_than_days", errors)) is not None:
        articles = articles.filter(submitted_at__lt=now - timedelta(days=older))
    if (newer := _days(params, "newer_than_days", errors)) is not None:
        articles = articles.filter(submitted_at__gte=now - timedelta(days=newer))
    if q := str(params.get("q") or "").strip():
        articles = articles.filter(title__icontains=q)
    sort = str(params.get("sort") or "submitted").strip()
    if sort not in SORTS:
        errors["sort"] = f"“{sort}” is not a sort order; use one of {', '.join(SORTS)}."
        sort = "submitted"
    if errors:
        raise FieldErrors(errors)
    machine_share = ArticleRevision.objects.filter(article=OuterRef("pk")).order_by("-number").values("machine_share")[:1]
    return (
        articles.annotate(machine_share=Subquery(machine_share))
        .select_related("created_by", "chosen__model_version", "chosen__template_version__template",
                        "chosen__style_version__profile")
        .order_by(*SORTS[sort])
    )


def in_review_count(workspace) -> int:
    """The navigation's badge: articles waiting for an editor."""
    return Article.objects.filter(workspace=workspace, status=S.IN_REVIEW).count()


def filter_choices(workspace) -> dict:
    """The review queue's drop-downs: writers, templates, styles and models of this workspace."""
    from catalog.models import ModelVersion
    from prompts.models import PromptTemplate
    from styles.models import StyleProfile

    return {
        "statuses": S.choices,
        "writers": [(m.user_id, m.user.username) for m in
                    Membership.objects.filter(workspace=workspace).select_related("user").order_by("user__username")],
        "templates": list(PromptTemplate.objects.filter(workspace=workspace).order_by("name").values_list("pk", "name")),
        "styles": list(StyleProfile.objects.filter(workspace=workspace).order_by("name").values_list("pk", "name")),
        "models": list(ModelVersion.objects.filter(workspace=workspace).order_by("name").values_list("name", flat=True)),
    }


# The article page --------------------------------------------------------------------------


@dataclass
class TimelineEntry:
    kind: str  # "transition" or "comment"
    at: object
    who: object
    item: object


def timeline(article: Article) -> list[TimelineEntry]:
    """The article's transitions and comments, oldest first."""
    entries = [TimelineEntry("transition", t.created_at, t.actor, t)
               for t in article.transitions.select_related("actor")]
    shown, total = latest_comments(article)
    entries += [TimelineEntry("comment", c.created_at, c.author, c) for c in shown]
    entries = sorted(entries, key=lambda e: e.at)
    if total > len(shown):  # a note where the left-out (older) comments would be
        first = next(i for i, e in enumerate(entries) if e.kind == "comment")
        entries.insert(first, TimelineEntry("hidden", shown[0].created_at, None, total - len(shown)))
    return entries


FORWARD = {"submit", "approve", "publish", "reopen"}  # the main button; the others are quieter


def move_buttons(membership, article: Article) -> list[dict]:
    return [{"action": name, "label": MOVES[name].label, "needs_comment": MOVES[name].needs_comment,
             "css": "" if name in FORWARD else "secondary" if name == "request_changes" else "secondary outline"}
            for name in allowed_moves(membership, article)]


def revision_shares(article: Article) -> list[dict]:
    """Machine-written share of each revision, newest first (for the provenance panel)."""
    return [{"number": r.number, "machine_share": r.machine_share, "created_at": r.created_at, "by": r.created_by,
             "generation_id": r.generation_id}
            for r in article.revisions.select_related("created_by").order_by("-number")]


# My drafts ----------------------------------------------------------------------------------

def _last_transitions(articles) -> dict[int, Transition]:
    last = {}
    for t in Transition.objects.filter(article__in=articles).select_related("actor").order_by("created_at", "pk"):
        last[t.article_id] = t
    return last


def _who(transition: Transition | None) -> str:
    if transition is None:
        return "someone"
    return transition.actor.username if transition.actor else "the scheduler"


def next_step(article: Article, last: Transition | None) -> str:
    """What happens next to the article, in a writer's words."""
    why = last.comment if last is not None and last.comment else ""
    if article.status == S.DRAFT:
        if not article.body.strip():
            return "Pick a variant (or write the text), then submit it for review."
        return "Edit it if you like, then submit it for review."
    if article.status == S.IN_REVIEW:
        return "Waiting for an editor."
    if article.status == S.CHANGES_REQUESTED:
        return (f"Changes requested by {_who(last)}" + (f": “{why}”" if why else ".")
                + " Edit it and submit it again.")
    if article.status == S.APPROVED:
        return f"Approved by {_who(last)}; an editor publishes it."
    if article.status == S.PUBLISHED:
        return "Published."
    if article.status == S.REJECTED:
        return f"Rejected by {_who(last)}" + (f": “{why}”" if why else ".")
    if article.status == S.UNPUBLISHED:
        return f"Unpublished by {_who(last)}" + (f": “{why}”" if why else ".")
    return "Archived."


def my_articles(membership) -> QuerySet[Article]:
    return (Article.objects.filter(workspace_id=membership.workspace_id, created_by_id=membership.user_id)
            .order_by("-updated_at", "-pk"))


def with_next_steps(articles) -> list[dict]:
    articles = list(articles)
    last = _last_transitions(articles)
    return [{"article": a, "last": last.get(a.pk), "next": next_step(a, last.get(a.pk))} for a in articles]
