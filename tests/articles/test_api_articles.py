"""The articles API: list and filter, detail with revisions, timeline and provenance, saving with
the version check, revisions, comments; other workspaces' articles are not found."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Membership
from articles.models import Article, ArticleRevision, Comment, Generation
from articles.revisions import article_save
from articles.workflow import article_transition


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def membership(user, workspace) -> Membership:
    return Membership.objects.get(user=user, workspace=workspace)


@pytest.fixture
def editor(make_member, workspace):
    return make_member("editor", workspace, username="edna")


@pytest.fixture
def article(writer, workspace):
    """Wendy's draft with one saved revision."""
    article = Article.objects.create(workspace=workspace, title="Saving water", created_by=writer)
    article_save(article=article, membership=membership(writer, workspace), title="Saving water",
                 body="Turn off the tap while brushing.", base_revision=0)
    return article


def _generation(article, **fields) -> Generation:
    return Generation.objects.create(article=article, workspace=article.workspace, model_name="/models/x", prompt="p",
                                     seed=fields.pop("seed", 7), params={"temperature": 0.7},
                                     status=Generation.Status.COMPLETED, **fields)


# --------------------------------------------------------------------------- list


def test_list_filters_by_each_query_parameter(writer, editor, workspace, other_workspace, make_member):
    from catalog.models import ModelVersion
    from prompts.services import prompt_create
    from styles.services import style_create

    template = prompt_create(workspace=workspace, user=editor, name="Tips", category="free", body="Tips on {x}",
                             variables=[{"name": "x"}])
    style = style_create(workspace=workspace, user=editor, name="House voice", voice="Warm.")
    model = ModelVersion.objects.create(workspace=workspace, name="local", kind="model", source="/m", spec="/m")
    tips = Article.objects.create(workspace=workspace, title="Water saving tips", created_by=writer)
    _generation(tips, template_version=template.current, style_version=style.current, model_version=model)
    report = Article.objects.create(workspace=workspace, title="Quarterly report", created_by=editor,
                                    status=Article.Status.PUBLISHED)
    Article.objects.filter(pk=report.pk).update(created_at=timezone.now() - timedelta(days=10))
    outsider = make_member("admin", other_workspace)
    Article.objects.create(workspace=other_workspace, title="Water elsewhere", created_by=outsider)
    client = api(writer)

    def titles(query=""):
        response = client.get(f"/api/articles/{query}")
        assert response.status_code == 200, response.content
        return [a["title"] for a in response.json()["results"]]

    assert titles() == ["Quarterly report", "Water saving tips"]  # waiting longest first, this workspace only
    assert titles("?sort=-submitted") == ["Water saving tips", "Quarterly report"]
    assert titles("?status=published") == ["Quarterly report"]
    assert titles("?status=draft") == ["Water saving tips"]
    assert titles(f"?writer={writer.pk}") == ["Water saving tips"]
    assert titles(f"?template={template.pk}") == ["Water saving tips"]
    assert titles(f"?style={style.pk}") == ["Water saving tips"]
    assert titles("?model=local") == ["Water saving tips"]
    assert titles("?model=local&status=published") == []
    assert titles("?model=default") == []
    assert titles("?older_than_days=5") == ["Quarterly report"]
    assert titles("?newer_than_days=5") == ["Water saving tips"]
    assert titles("?q=WATER") == ["Water saving tips"]
    listed = client.get("/api/articles/?sort=-submitted").json()
    assert listed["count"] == 2
    assert listed["results"][0] | {"id": 0, "created_at": "", "updated_at": "", "submitted_at": ""} == {
        "id": 0, "title": "Water saving tips", "status": "draft", "slug": "", "revision": 0, "created_by": "wendy",
        "created_at": "", "updated_at": "", "submitted_at": "", "published_at": None, "publish_at": None,
        "unpublish_at": None, "machine_share": None,
    }


@pytest.mark.parametrize("query, field", [
    ("status=bogus", "status"), ("writer=abc", "writer"), ("template=0", "template"), ("style=-3", "style"),
    ("model=nonesuch", "model"), ("sort=sideways", "sort"), ("older_than_days=-1", "older_than_days"),
    ("newer_than_days=soon", "newer_than_days"), ("q=%00", "q"), ("status=", "status"), ("writer=", "writer"),
])
def test_a_bad_filter_is_a_400_naming_it(writer, query, field):
    response = api(writer).get(f"/api/articles/?{query}")
    assert response.status_code == 400
    assert list(response.json()) == [field]


# --------------------------------------------------------------------------- detail


def test_detail_has_text_revisions_timeline_and_provenance(writer, editor, workspace, article):
    chosen = _generation(article, seed=42, style_fit=0.81, text="Every dripping tap wastes litres of water a day.")
    article_save(article=article, membership=membership(writer, workspace), title="Saving water",
                 body=chosen.text, base_revision=1, note="Used variant 1", generation=chosen)
    article_save(article=article, membership=membership(writer, workspace), title="Saving water at home",
                 body=chosen.text + " Fix leaks.", base_revision=2)
    article_transition(article=article, action="submit", membership=membership(writer, workspace), comment="Ready")

    detail = api(editor).get(f"/api/articles/{article.pk}/").json()
    assert detail["title"] == "Saving water at home" and detail["status"] == "in_review"
    assert detail["body"].endswith("Fix leaks.") and detail["revision"] == 3
    assert detail["public_url"] is None
    assert detail["allowed_actions"] == ["request_changes", "reject", "approve"]
    assert [r["number"] for r in detail["revisions"]] == [3, 2, 1]
    assert detail["revisions"][1]["note"] == "Used variant 1" and detail["revisions"][1]["generation"] == chosen.pk
    assert "body" not in detail["revisions"][0] and detail["revisions"][0]["created_by"] == "wendy"
    assert [(t["action"], t["from_status"], t["to_status"], t["actor"], t["comment"], t["revision"])
            for t in detail["timeline"]] == [("submit", "draft", "in_review", "wendy", "Ready", 3)]
    provenance = detail["provenance"]
    assert [g["id"] for g in provenance["generations"]] == [chosen.pk]
    assert provenance["generations"][0] | {"id": 0} == {
        "id": 0, "variant": 1, "kind": "draft", "model": None, "model_name": "/models/x", "template": None,
        "template_version": None, "style": None, "style_version": None, "params": {"temperature": 0.7},
        "seed": 42, "style_fit": 0.81,
    }
    assert 0.5 < provenance["machine_share"] < 1
    assert provenance["human_share"] == pytest.approx(1 - provenance["machine_share"], abs=1e-4)
    # the writer, once it is in review, may do nothing more with it
    assert api(writer).get(f"/api/articles/{article.pk}/").json()["allowed_actions"] == []


def test_revisions_list_and_one_revision_with_its_text(writer, editor, workspace, article):
    article_save(article=article, membership=membership(editor, workspace), title="Saving water",
                 body="Turn off the tap.", base_revision=1, note="Shorter")
    client = api(writer)
    listed = client.get(f"/api/articles/{article.pk}/revisions/").json()
    assert [(r["number"], r["created_by"], r["note"]) for r in listed["results"]] == [(2, "edna", "Shorter"), (1, "wendy", "")]
    first = client.get(f"/api/articles/{article.pk}/revisions/1/").json()
    assert first["body"] == "Turn off the tap while brushing." and first["authorship"] == [[32, "human"]]
    assert client.get(f"/api/articles/{article.pk}/revisions/3/").status_code == 404


# --------------------------------------------------------------------------- PATCH


def test_patch_saves_the_next_revision(writer, article):
    client = api(writer)
    response = client.patch(f"/api/articles/{article.pk}/", {"body": "Turn off the tap.", "revision": 1,
                                                             "note": "Tighter"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["revision"] == 2 and response.json()["title"] == "Saving water"  # title unchanged
    response = client.patch(f"/api/articles/{article.pk}/", {"title": "Save water", "revision": 2}, format="json")
    assert response.json()["revision"] == 3
    article.refresh_from_db()
    assert (article.title, article.body, article.revision) == ("Save water", "Turn off the tap.", 3)
    assert list(article.revisions.values_list("note", flat=True)) == ["", "Tighter", ""]


def test_a_stale_patch_is_a_409_with_both_texts_and_overwrites_nothing(writer, editor, article):
    assert api(editor).patch(f"/api/articles/{article.pk}/", {"body": "The editor's text.", "revision": 1},
                             format="json").status_code == 200
    response = api(writer).patch(f"/api/articles/{article.pk}/", {"body": "The writer's text.", "revision": 1},
                                 format="json")
    assert response.status_code == 409
    conflict = response.json()
    assert conflict["latest_revision"] == 2 and conflict["base_revision"] == 1 and conflict["saved_by"] == "edna"
    assert conflict["latest_body"] == "The editor's text." and conflict["your_body"] == "The writer's text."
    assert "edna saved revision 2" in conflict["detail"]
    article.refresh_from_db()
    assert article.body == "The editor's text." and article.revision == 2
    assert article.revisions.count() == 2
    # saving again from the latest revision works
    assert api(writer).patch(f"/api/articles/{article.pk}/", {"body": "Merged.", "revision": 2},
                             format="json").status_code == 200


def test_a_writer_may_not_patch_an_article_in_review(writer, editor, workspace, article):
    Article.objects.filter(pk=article.pk).update(status=Article.Status.IN_REVIEW)
    response = api(writer).patch(f"/api/articles/{article.pk}/", {"body": "Sneaky.", "revision": 1}, format="json")
    assert response.status_code == 403
    assert response.json()["detail"] == "The article is in review; only editors change it now."
    article.refresh_from_db()
    assert article.body == "Turn off the tap while brushing." and article.revisions.count() == 1
    assert api(editor).patch(f"/api/articles/{article.pk}/", {"body": "Edited in review.", "revision": 1},
                             format="json").status_code == 200


def test_another_writer_may_not_patch_someones_draft(make_member, workspace, article):
    other = make_member("writer", workspace)
    response = api(other).patch(f"/api/articles/{article.pk}/", {"body": "Mine now.", "revision": 1}, format="json")
    assert response.status_code == 403
    assert ArticleRevision.objects.filter(article=article).count() == 1


@pytest.mark.parametrize("data, field, message", [
    ({"title": "   ", "revision": 1}, "title", "The title is empty."),
    ({"title": "x" * 201, "revision": 1}, "title", "The title is 201 characters; keep it to 200."),
    ({"body": "New text."}, "revision", "This field is required."),
    ({"body": "New text.", "revision": "1"}, "revision", "Expected a whole number."),
    ({"body": "New text.", "revison": 1}, "revison", "Unknown field: did you mean revision?"),
])
def test_bad_patch_input_is_a_400_naming_the_field(writer, article, data, field, message):
    response = api(writer).patch(f"/api/articles/{article.pk}/", data, format="json")
    assert response.status_code == 400
    assert response.json()[field] == [message]
    assert Article.objects.get(pk=article.pk).revision == 1


# --------------------------------------------------------------------------- comments


def test_comments_list_and_add(writer, editor, article):
    client = api(editor)
    response = client.post(f"/api/articles/{article.pk}/comments/",
                           {"body": "Say why it matters.", "quote": "Turn off the tap"}, format="json")
    assert response.status_code == 201, response.content
    assert response.json() | {"id": 0, "created_at": ""} == {
        "id": 0, "author": "edna", "body": "Say why it matters.", "quote": "Turn off the tap", "revision": 1,
        "created_at": "",
    }
    api(writer).post(f"/api/articles/{article.pk}/comments/", {"body": "Done."}, format="json")
    listed = api(writer).get(f"/api/articles/{article.pk}/comments/").json()
    assert [(c["author"], c["body"]) for c in listed["results"]] == [("edna", "Say why it matters."), ("wendy", "Done.")]


@pytest.mark.parametrize("data, field", [
    ({"body": "  "}, "body"),
    ({"body": "Hm.", "quote": "a passage that is not there"}, "quote"),
    ({"quote": "Turn off"}, "body"),
])
def test_a_bad_comment_is_a_400_naming_the_field(writer, article, data, field):
    response = api(writer).post(f"/api/articles/{article.pk}/comments/", data, format="json")
    assert response.status_code == 400 and field in response.json()
    assert not Comment.objects.exists()


# --------------------------------------------------------------------------- scope and auth


def test_another_workspaces_article_is_not_found(make_member, other_workspace, article):
    outsider = api(make_member("admin", other_workspace))
    base = f"/api/articles/{article.pk}/"
    assert outsider.get(base).status_code == 404
    assert outsider.patch(base, {"body": "x", "revision": 1}, format="json").status_code == 404
    assert outsider.post(base + "transition/", {"action": "archive"}, format="json").status_code == 404
    assert outsider.get(base + "revisions/").status_code == 404
    assert outsider.get(base + "revisions/1/").status_code == 404
    assert outsider.get(base + "comments/").status_code == 404
    assert outsider.post(base + "comments/", {"body": "Hi"}, format="json").status_code == 404
    assert outsider.get("/api/articles/").json()["results"] == []
    article.refresh_from_db()
    assert article.status == "draft" and article.revision == 1 and not article.comments.exists()


def test_a_token_reads_saves_and_submits(writer, article):
    from accounts.tokens import api_token_create

    _, key = api_token_create(user=writer, name="CMS sync")
    client = APIClient()
    assert client.get("/api/articles/").status_code == 401
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert [a["id"] for a in client.get("/api/articles/").json()["results"]] == [article.pk]
    assert client.patch(f"/api/articles/{article.pk}/", {"body": "From the CMS.", "revision": 1},
                        format="json").json()["revision"] == 2
    response = client.post(f"/api/articles/{article.pk}/transition/", {"action": "submit"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "in_review"
    assert response.json()["timeline"][0]["actor"] == "wendy"
