from django import template

from accounts.permissions import role_allows

register = template.Library()


@register.filter
def may(membership, action: str) -> bool:
    """{% if current_membership|may:"articles.to_dataset" %}: whether the member's role allows it."""
    return membership is not None and role_allows(membership.role, action)


@register.simple_tag
def datasets_holding(article) -> list:
    """The latest ready dataset versions that hold the article as a record, by dataset name."""
    from corpora.selectors import datasets_holding as holding

    versions = holding(workspace=article.workspace_id, article_ids=[article.pk]).get(article.pk, [])
    return sorted(versions, key=lambda v: v.dataset.name.lower())
