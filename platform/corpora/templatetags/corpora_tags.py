from django import template

from accounts.permissions import role_allows

register = template.Library()


@register.filter
def may(membership, action: str) -> bool:
    """{% if current_membership|may:"articles.to_dataset" %}: whether the member's role allows it."""
    return membership is not None and role_allows(membership.role, action)
