from django.db.models import QuerySet

from accounts.permissions import can
from articles.models import SUGGESTION, Article, Generation
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
    # Rendered while it streams too (the page re-renders it as pieces come): no jump at the end.
    context["html"] = render_markdown(generation.prefix + generation.text)
    context["in_use"] = generation.article.chosen_id == generation.pk
    context["length_limit"] = generation.status == Generation.Status.COMPLETED and generation.finish_reason == "length"
    return context


def variant_runs(article: Article, variant: int | None = None) -> list[dict]:
    """Every run of the article's variants (suggestions for passages excluded), per variant:
    {"variant", "latest", "earlier" (newest first)}. A regenerated or continued variant keeps
    its earlier runs reachable."""
    generations = article.generations.exclude(kind=SUGGESTION).select_related("model_version", "article")
    if variant is not None:
        generations = generations.filter(variant=variant)
    runs: dict[int, list[Generation]] = {}
    for generation in generations.order_by("variant", "created_at", "pk"):
        runs.setdefault(generation.variant, []).append(generation)
    return [{"variant": v, "latest": gens[-1], "earlier": gens[-2::-1]} for v, gens in sorted(runs.items())]


def variant_cards(article: Article, membership, variant: int | None = None) -> list[dict]:
    """variant_runs with each run's card context (what the article page shows per variant)."""
    workers = workers_health() if article.generations.filter(status=Generation.Status.QUEUED).exists() else None
    return [{"variant": group["variant"], "latest": generation_card_context(group["latest"], workers, membership),
             "earlier": [generation_card_context(g, workers, membership) for g in group["earlier"]]}
            for group in variant_runs(article, variant)]


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
