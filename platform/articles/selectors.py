import markdown as md
import nh3
from django.db.models import QuerySet

from accounts.permissions import can
from articles.models import SUGGESTION, Article, Generation
from core.health import workers_health


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
    variants = article.generations.exclude(kind=SUGGESTION).select_related("model_version")
    for generation in variants.order_by("variant", "created_at"):
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
