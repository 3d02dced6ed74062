"""The editorial workflow service: every move of every role from every state.

The expectations come from the tables below, written from the issue (writers submit their own
articles; editors and admins do everything), not from articles.workflow.MOVES, so a change to
MOVES that breaks the rules fails here.
"""

import pytest
from django.db import IntegrityError, transaction

from accounts.permissions import WorkspacePermissionDenied
from articles.models import Article, Review, Transition
from articles.workflow import MOVES, TransitionNotAllowed, allowed_moves, article_transition
from core.errors import FieldErrors
from tests.articles.workflow_table import STATES, WORKFLOW

TABLE = WORKFLOW
EVERYTHING = set(TABLE)
# who may make which move (on an article of any state)
MAY = {
    "writer_own": {"submit"},
    "writer_other": set(),
    "editor": EVERYTHING,
    "admin": EVERYTHING,
}
NEEDS_COMMENT = {"request_changes", "reject"}


def test_the_table_covers_every_move_and_state():
    assert set(MOVES) == set(TABLE)
    assert set(STATES) == set(Article.Status.values)


@pytest.fixture
def people(make_member, workspace):
    return {
        "author": make_member("writer", workspace, username="author"),
        "writer": make_member("writer", workspace, username="walt"),
        "editor": make_member("editor", workspace, username="edna"),
        "admin": make_member("admin", workspace, username="ada"),
    }


def membership(user, workspace):
    return user.memberships.get(workspace=workspace)


def make_article(workspace, author, status="draft", body="Some text worth reading."):
    return Article.objects.create(workspace=workspace, title="Lanterns", body=body, status=status, created_by=author,
                                  revision=1)


def actor_for(role, people, workspace):
    user = people["author"] if role == "writer_own" else people["writer"] if role == "writer_other" else people[role]
    return membership(user, workspace)


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("action", sorted(TABLE))
@pytest.mark.parametrize("role", sorted(MAY))
def test_every_move_of_every_role_from_every_state(people, workspace, role, action, state):
    article = make_article(workspace, people["author"], status=state)
    member = actor_for(role, people, workspace)
    comment = "Tighten the opening." if action in NEEDS_COMMENT else ""
    sources, target = TABLE[action]
    may = action in MAY[role]
    assert (action in allowed_moves(member, article)) == (may and state in sources)
    if not may:
        with pytest.raises(WorkspacePermissionDenied):
            article_transition(article=article, action=action, membership=member, comment=comment)
    elif state not in sources:
        with pytest.raises(TransitionNotAllowed):
            article_transition(article=article, action=action, membership=member, comment=comment)
    else:
        transition = article_transition(article=article, action=action, membership=member, comment=comment)
        article.refresh_from_db()
        assert article.status == target
        assert (transition.from_status, transition.to_status, transition.actor, transition.comment) == (
            state, target, member.user, comment)
        return
    article.refresh_from_db()
    assert article.status == state and not Transition.objects.filter(article=article).exists()


@pytest.mark.parametrize("action", sorted(NEEDS_COMMENT))
def test_sending_back_or_rejecting_needs_a_comment(people, workspace, action):
    article = make_article(workspace, people["author"], status="in_review")
    with pytest.raises(FieldErrors) as caught:
        article_transition(article=article, action=action, membership=membership(people["editor"], workspace), comment="  ")
    assert "comment" in caught.value.errors
    article.refresh_from_db()
    assert article.status == "in_review" and not article.transitions.exists()


def test_a_comment_too_long_is_refused_naming_the_field(people, workspace):
    article = make_article(workspace, people["author"])
    with pytest.raises(FieldErrors) as caught:
        article_transition(article=article, action="submit", membership=membership(people["author"], workspace),
                           comment="x" * 5001)
    assert set(caught.value.errors) == {"comment"}


def test_an_article_without_text_cannot_be_submitted(people, workspace):
    article = make_article(workspace, people["author"], body="  ")
    with pytest.raises(TransitionNotAllowed, match="text"):
        article_transition(article=article, action="submit", membership=membership(people["author"], workspace))


def test_submitting_opens_a_review_that_the_outcome_closes(people, workspace):
    article = make_article(workspace, people["author"])
    article_transition(article=article, action="submit", membership=membership(people["author"], workspace))
    review = Review.objects.get(article=article)
    assert review.closed_at is None and review.submitted_by == people["author"]
    article_transition(article=article, action="request_changes", membership=membership(people["editor"], workspace),
                       comment="More about wicks.")
    review.refresh_from_db()
    assert review.closed_at is not None and review.outcome == "changes_requested" and review.closed_by == people["editor"]
    article_transition(article=article, action="submit", membership=membership(people["author"], workspace))
    article_transition(article=article, action="approve", membership=membership(people["admin"], workspace))
    assert list(article.reviews.order_by("submitted_at").values_list("outcome", flat=True)) == ["changes_requested", "approved"]
    assert [t.action for t in article.transitions.all()] == ["submit", "request_changes", "submit", "approve"]


def test_publishing_gives_a_slug_and_a_date_and_the_scheduler_needs_no_member(people, workspace):
    article = make_article(workspace, people["author"], status="approved")
    transition = article_transition(article=article, action="publish", scheduled=True)
    article.refresh_from_db()
    assert article.status == "published" and article.slug == "lanterns" and article.published_at is not None
    assert transition.actor is None


def test_the_database_allows_one_open_review_per_article(people, workspace):
    article = make_article(workspace, people["author"], status="in_review")
    Review.objects.create(article=article, submitted_by=people["author"])
    with pytest.raises(IntegrityError), transaction.atomic():
        Review.objects.create(article=article, submitted_by=people["author"])
    assert Review.objects.filter(article=article).count() == 1


def test_another_workspace_member_is_told_not_found(people, workspace, make_member, other_workspace):
    from django.http import Http404

    outsider = make_member("admin", other_workspace, username="olga")
    article = make_article(workspace, people["author"], status="in_review")
    with pytest.raises(Http404):
        article_transition(article=article, action="approve", membership=membership(outsider, other_workspace))


def test_a_published_article_never_takes_the_address_of_the_workspace_feeds(workspace, make_member):
    from accounts.models import Membership
    from articles.models import Article
    from articles.workflow import article_transition

    editor = make_member("editor", workspace)
    membership = Membership.objects.get(user=editor, workspace=workspace)
    slugs = []
    for title in ("Feed", "RSS", "Feed"):
        article = Article.objects.create(workspace=workspace, title=title, body="Text.", status="approved", created_by=editor)
        article_transition(article=article, action="publish", membership=membership)
        article.refresh_from_db()
        slugs.append(article.slug)
    assert slugs == ["feed-2", "rss-2", "feed-3"]
