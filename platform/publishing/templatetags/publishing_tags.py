from django import template

from accounts.permissions import can
from publishing.exports import FORMATS
from publishing.forms import ScheduleForm
from publishing.services import schedule_summary

register = template.Library()


@register.simple_tag(takes_context=True)
def publishing_actions(context, article) -> dict:
    """What the article page's publishing panel offers this member."""
    membership = getattr(context.get("request"), "membership", None)
    may_schedule = can(membership, "articles.publish", article)
    return {
        "formats": FORMATS,
        "may_schedule": may_schedule,
        "form": ScheduleForm(initial={"publish_at": article.publish_at, "unpublish_at": article.unpublish_at}) if may_schedule else None,
        "scheduled": schedule_summary(article) if article.publish_at or article.unpublish_at else "",
        "public": article.status == article.Status.PUBLISHED and article.slug,
    }
