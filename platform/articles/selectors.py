import re
from datetime import timedelta

import markdown as md
import nh3
from django.db.models import QuerySet
from django.utils import timezone

from accounts.permissions import can
from articles.models import Article, Generation
from core.errors import FieldErrors
from core.fields import parse_id
from core.health import workers_health
from core.text import unstorable_reason


def render_markdown(text: str) -> str:
    """Markdown to HTML, sanitised: model output is untrusted."""
    return nh3.clean(md.markdown(text, extensions=["extra", "sane_lists"]))


def queue_position(generation: Generation) -> int | None:
    """1 = next to run. None when not queued."""
    if generation.status != Generation.Status.QUEUED:
        return None
    ahead = Generation.objects.filter(status=Generation.Status.QUEUED, created_at__lt=generation.created_at).count()
    return ahead + 1


def generation_card_context(generation: Generation, workers=None, membership=None) -> dict:
    """What a variant's card shows, and which of its buttons this member may use (none without one)."""
    context = {"g": generation, "queue_position": queue_position(generation), "may": {
        "cancel": can(membership, "generations.cancel", generation),
        "rerun": can(membership, "generations.rerun", generation),
        "choose": can(membership, "drafts.choose", generation.article),
    }}
    if generation.status == Generation.Status.QUEUED:
        workers = workers or workers_health()
        context["workers_up"] = workers["generation"]["ok"]
    if not generation.is_active and generation.text:
        context["html"] = render_markdown(generation.prefix + generation.text)
    return context


def latest_per_variant(article: Article) -> list[Generation]:
    latest = {}
    for generation in article.generations.select_related("model_version").order_by("variant", "created_at"):
        latest[generation.variant] = generation
    return [latest[v] for v in sorted(latest)]


def articles_for(workspace, search: str = "") -> QuerySet[Article]:
    articles = Article.objects.filter(workspace=workspace).select_related("created_by")
    if search:
        articles = articles.filter(title__icontains=search)
    return articles


def contributing_generations(article: Article) -> list[Generation]:
    """The runs whose text made it into the article: the chosen variants and accepted suggestions
    (every generation a revision took text from), oldest first."""
    ids = set(article.revisions.exclude(generation=None).values_list("generation_id", flat=True))
    if article.chosen_id:
        ids.add(article.chosen_id)
    return list(
        Generation.objects.filter(pk__in=ids)
        .select_related("model_version", "template_version__template", "style_version__profile")
        .order_by("created_at")
    )


def article_provenance(article: Article) -> dict:
    """Where the text came from: each contributing generation's model, template and style
    versions, parameters, seed and style fit, and how much of the current text is still
    machine-written (from the latest revision's authorship)."""
    latest = article.revisions.order_by("-number").first()
    machine = latest.machine_share if latest is not None else None
    return {
        "generations": contributing_generations(article),
        "machine_share": machine,
        "human_share": None if machine is None else round(1 - machine, 4),
        "revision": article.revision,
    }


ARTICLE_FILTERS = ("status", "writer", "template", "style", "model", "older_than_days", "newer_than_days", "q")
MAX_DAYS = 36_500


def articles_filtered(workspace, params: dict) -> QuerySet[Article]:
    """The workspace's articles matching the filters given in `params` (each optional):
    status, writer (user id), template, style (ids), model (a name, or "default": articles with a
    generation from that template, style or model), older_than_days / newer_than_days (by
    creation), q (part of the title). A bad value raises FieldErrors naming its key."""
    articles = Article.objects.filter(workspace=workspace).select_related("created_by")
    errors = {}
    status = params.get("status")
    if status:
        if status not in Article.Status.values:
            errors["status"] = f"One of {', '.join(Article.Status.values)}, not {str(status)[:40]!r}."
        else:
            articles = articles.filter(status=status)
    model = str(params.get("model") or "")
    if model == "default":
        articles = articles.filter(generations__model_version__isnull=True)
    elif model:
        articles = articles.filter(generations__model_version__name=model)
    related = {"writer": "created_by_id", "template": "generations__template_version__template_id",
               "style": "generations__style_version__profile_id"}
    for name, lookup in related.items():
        if params.get(name) in (None, ""):
            continue
        pk = parse_id(params[name])
        if pk is None:
            errors[name] = f"An id (a whole number from 1), not {str(params[name])[:40]!r}."
        else:
            articles = articles.filter(**{lookup: pk})
    now = timezone.now()
    for name, lookup in (("older_than_days", "created_at__lte"), ("newer_than_days", "created_at__gte")):
        raw = str(params.get(name) or "")
        if not raw:
            continue
        if not re.fullmatch(r"[0-9]{1,5}", raw) or int(raw) > MAX_DAYS:
            errors[name] = f"A whole number of days from 0 to {MAX_DAYS}, not {raw[:40]!r}."
        else:
            articles = articles.filter(**{lookup: now - timedelta(days=int(raw))})
    q = str(params.get("q") or "").strip()
    if q:
        if reason := unstorable_reason(q):
            errors["q"] = f"The search {reason}."
        else:
            articles = articles.filter(title__icontains=q)
    if errors:
        raise FieldErrors(errors)
    return articles.distinct()
