from accounts.permissions import role_allows


def review_nav(request):
    """The navigation's Review item (editors and admins) with the number of articles in review."""
    membership = getattr(request, "membership", None)
    if membership is None or not role_allows(membership.role, "articles.review"):
        return {"can_review": False}
    from articles.review_selectors import in_review_count

    return {"can_review": True, "review_count": in_review_count(membership.workspace)}
