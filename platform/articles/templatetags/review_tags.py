"""What the article page's workflow and provenance partials show, computed from the article and
whoever looks at it (so the page's view stays as it is)."""

from django import template

from articles import review_selectors as rs
from articles.models import Generation
from articles.selectors import article_provenance

register = template.Library()


@register.simple_tag(takes_context=True)
def workflow_panel(context, article):
    membership = getattr(context.get("request"), "membership", None)
    return {"buttons": rs.move_buttons(membership, article), "timeline": rs.timeline(article)}


@register.simple_tag
def provenance_panel(article):
    provenance = article_provenance(article)
    fits = [g.style_fit for g in provenance["generations"] if g.style_fit is not None]
    provenance["best_fit"] = max(fits) if len(fits) > 1 else None
    provenance["revisions"] = rs.revision_shares(article)
    return provenance


@register.simple_tag
def style_fit_mark(generation):
    """The variant card's style fit, and whether it is the best of the article's latest variants."""
    if generation.style_fit is None:
        return None
    fits = (Generation.objects.filter(article_id=generation.article_id, style_fit__isnull=False)
            .order_by("variant", "created_at").values_list("variant", "style_fit"))
    latest = dict(fits)  # the newest run of each variant
    best = max(latest.values())
    return {"value": generation.style_fit, "best": len(latest) > 1 and generation.style_fit >= best}


@register.filter
def percent(share):
    return "—" if share is None else f"{round(share * 100)}%"
