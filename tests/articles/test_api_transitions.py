"""Every transition by every role from every state, through the API.

The expected answers come from the table below, written from the issue's workflow (not from
articles.workflow.MOVES): writers submit their own articles; editors and admins make every move.
Permission is checked before state: a role that may not make a move gets 403 whatever the state;
a role that may gets 409 when the move does not exist from the article's state.
"""

import pytest
from rest_framework.test import APIClient

from articles.models import Article, Review, Transition
from tests.articles.workflow_table import STATES, WORKFLOW

ROLES = ["writer-owner", "writer-other", "editor", "admin"]
WHO = {action: {"editor", "admin"} for action in WORKFLOW} | {"submit": {"writer-owner", "editor", "admin"}}


def expected(role: str, action: str, state: str) -> int:
    if role not in WHO[action]:
        return 403
    return 200 if state in WORKFLOW[action][0] else 409


@pytest.fixture
def people(make_member, workspace):
    owner = make_member("writer", workspace, username="wendy")
    return {
        "writer-owner": owner,
        "writer-other": make_member("writer", workspace, username="walt"),
        "editor": make_member("editor", workspace, username="edna"),
        "admin": make_member("admin", workspace, username="ada"),
    }


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("action", list(WORKFLOW))
@pytest.mark.parametrize("role", ROLES)
def test_transition(people, workspace, role, action, state):
    article = Article.objects.create(workspace=workspace, title="Saving water", body="Turn off the tap.",
                                     created_by=people["writer-owner"], status=state)
    client = APIClient()
    client.force_authenticate(people[role])
    response = client.post(f"/api/articles/{article.pk}/transition/", {"action": action, "comment": "Because."},
                           format="json")
    want = expected(role, action, state)
    assert response.status_code == want, response.content
    article.refresh_from_db()
    if want == 200:
        target = WORKFLOW[action][1]
        assert article.status == target and response.json()["status"] == target
        step = Transition.objects.get(article=article)
        assert (step.action, step.from_status, step.to_status, step.actor, step.comment) == (
            action, state, target, people[role], "Because.")
        assert response.json()["timeline"][-1]["actor"] == people[role].username
    else:
        assert article.status == state and not Transition.objects.exists()
        assert response.json()["detail"]
    if want == 409:
        assert response.json()["status"] == state
        assert action not in response.json()["allowed_actions"]


def test_the_table_covers_every_move_of_the_workflow():
    from articles.workflow import MOVES

    assert set(MOVES) == set(WORKFLOW)


def test_submitting_opens_one_review_and_a_decision_closes_it(people, workspace):
    article = Article.objects.create(workspace=workspace, title="Saving water", body="Turn off the tap.",
                                     created_by=people["writer-owner"])
    writer, editor = APIClient(), APIClient()
    writer.force_authenticate(people["writer-owner"])
    editor.force_authenticate(people["editor"])
    url = f"/api/articles/{article.pk}/transition/"
    assert writer.post(url, {"action": "submit"}, format="json").status_code == 200
    assert Review.objects.get(article=article).closed_at is None
    assert editor.post(url, {"action": "request_changes", "comment": "Say why."}, format="json").status_code == 200
    assert Review.objects.get(article=article).outcome == "changes_requested"
    assert writer.post(url, {"action": "submit"}, format="json").status_code == 200
    detail = editor.post(url, {"action": "approve"}, format="json").json()
    assert [(t["action"], t["actor"]) for t in detail["timeline"]] == [
        ("submit", "wendy"), ("request_changes", "edna"), ("submit", "wendy"), ("approve", "edna")]
    assert [r.outcome for r in Review.objects.filter(article=article).order_by("submitted_at", "pk")] == [
        "changes_requested", "approved"]


def test_an_empty_article_cannot_be_submitted(people, workspace):
    article = Article.objects.create(workspace=workspace, title="Empty", created_by=people["writer-owner"])
    client = APIClient()
    client.force_authenticate(people["writer-owner"])
    response = client.post(f"/api/articles/{article.pk}/transition/", {"action": "submit"}, format="json")
    assert response.status_code == 409 and "needs the article to have text" in response.json()["detail"]
    assert Article.objects.get(pk=article.pk).status == "draft"


def test_publishing_gives_a_slug_and_a_date(people, workspace):
    article = Article.objects.create(workspace=workspace, title="Saving Water", body="Turn off the tap.",
                                     created_by=people["writer-owner"], status="approved")
    client = APIClient()
    client.force_authenticate(people["editor"])
    detail = client.post(f"/api/articles/{article.pk}/transition/", {"action": "publish"}, format="json").json()
    assert detail["status"] == "published" and detail["slug"] == "saving-water" and detail["published_at"]


def test_a_published_article_has_its_public_url(people, workspace):
    pytest.importorskip("publishing", reason="the public pages are not installed on this branch")
    article = Article.objects.create(workspace=workspace, title="Saving Water", body="Turn off the tap.",
                                     created_by=people["writer-owner"], status="approved")
    client = APIClient()
    client.force_authenticate(people["editor"])
    url = f"/api/articles/{article.pk}/transition/"
    detail = client.post(url, {"action": "publish"}, format="json").json()
    assert detail["public_url"] == f"http://testserver/p/{workspace.slug}/saving-water/"
    assert APIClient().get(detail["public_url"]).status_code == 200  # no login
    assert client.post(url, {"action": "unpublish"}, format="json").json()["public_url"] is None


@pytest.mark.parametrize("data, field", [({"action": "delete"}, "action"), ({}, "action"),
                                         ({"action": "submit", "comment": 3}, "comment"),
                                         ({"action": "request_changes"}, "comment"),
                                         ({"action": "reject", "comment": "  "}, "comment")])
def test_a_bad_transition_request_is_a_400_naming_the_field(people, workspace, data, field):
    article = Article.objects.create(workspace=workspace, title="T", body="B", created_by=people["writer-owner"],
                                     status="in_review")
    client = APIClient()
    client.force_authenticate(people["editor"])
    response = client.post(f"/api/articles/{article.pk}/transition/", data, format="json")
    assert response.status_code == 400 and field in response.json()
    assert Article.objects.get(pk=article.pk).status == "in_review" and not Transition.objects.exists()
