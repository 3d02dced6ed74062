from django.db.models import QuerySet

from accounts.permissions import can
from articles.models import Article, Generation
from core.health import workers_health
from core.markdown import render_markdown


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
