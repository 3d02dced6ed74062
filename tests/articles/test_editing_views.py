"""The editor's pages and fragments, as the editor's script and a browser use them."""

import pytest
from django.test import Client

from articles.models import Article, Comment, Generation
from articles.workflow import article_transition
from tests.articles.test_editing import GENERATED, article, editor, member  # noqa: F401

AUTOSAVE = {"HTTP_X_EDITOR_AUTOSAVE": "1"}


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def save(client, draft, body, revision, title=None, **extra):
    """What the editor's script posts: title, text and the base revision."""
    return client.post(f"/write/articles/{draft.pk}/save/",
                       {"title": title or draft.title, "body": body, "revision": revision, **extra}, **AUTOSAVE)


def test_editor_page_shows_the_text_preview_and_base_revision(article, writer):  # noqa: F811
    response = client_for(writer).get(f"/write/articles/{article.pk}/edit/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="revision" value="1"' in html and "Saved r1" in html
    assert "The Sun Lantern charges all day." in html  # in the textarea and the rendered preview
    assert "<p>The Sun Lantern charges all day.</p>" in html
    assert "articles/editor.js" in html


def test_article_page_links_to_the_editor(article, writer):  # noqa: F811
    html = client_for(writer).get(f"/write/articles/{article.pk}/").content.decode()
    assert f'href="/write/articles/{article.pk}/edit/"' in html


def test_save_returns_the_new_revision(article, writer):  # noqa: F811
    response = save(client_for(writer), article, GENERATED + "\n\nOne more line.", 1)
    assert response.status_code == 200
    assert 'data-revision="2"' in response.content.decode() and "Saved r2 · " in response.content.decode()
    article.refresh_from_db()
    assert article.revision == 2 and article.body.endswith("One more line.")


def test_stale_save_answers_409_with_both_texts_and_keeps_theirs(article, writer, editor):  # noqa: F811
    assert save(client_for(editor), article, GENERATED + "\n\nEditor was here.", 1).status_code == 200
    response = save(client_for(writer), article, "Writer rewrote it all.", 1)
    html = response.content.decode()
    assert response.status_code == 409
    assert 'data-testid="conflict-theirs">' + GENERATED in html
    assert "Editor was here." in html and "Writer rewrote it all." in html
    diff = html[html.index('data-testid="conflict-diff"'):]  # the word diff from theirs to yours
    assert '<ins class="diff-added">Writer' in diff and '<del class="diff-removed">The Sun Lantern' in diff
    assert 'data-latest-revision="2"' in html and "Keep mine (save over theirs)" in html
    article.refresh_from_db()
    assert article.body.endswith("Editor was here.")
    # keep mine: an explicit save from the latest revision
    kept = save(client_for(writer), article, "Writer rewrote it all.", 2, note="Kept mine over r2")
    assert kept.status_code == 200
    assert article.revisions.get(number=3).note == "Kept mine over r2"


def test_a_save_with_bad_input_names_the_field(article, writer):  # noqa: F811
    response = save(client_for(writer), article, "Text", 1, title="  ")
    assert response.status_code == 400 and "Title: The title is empty." in response.content.decode()
    missing = client_for(writer).post(f"/write/articles/{article.pk}/save/", {"title": "T", "body": "B"}, **AUTOSAVE)
    assert missing.status_code == 400 and "The base revision is missing" in missing.content.decode()


def test_preview_is_sanitised_markdown(article, writer):  # noqa: F811
    response = client_for(writer).post(f"/write/articles/{article.pk}/preview/",
                                       {"body": "**Bold** <script>alert(1)</script> [x](javascript:alert(1))"})
    html = response.content.decode()
    assert "<strong>Bold</strong>" in html
    assert "<script" not in html and "javascript:" not in html


def test_diff_page_shows_insertions_and_deletions(article, editor):  # noqa: F811
    save(client_for(editor), article, GENERATED.replace("all day", "from dawn to dusk"), 1)
    response = client_for(editor).get(f"/write/articles/{article.pk}/revisions/?a=1&b=2")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<del class="diff-removed">all day</del><ins class="diff-added">from dawn to dusk</ins>' in html
    assert "+4 words, −2 words" in html
    chosen = client_for(editor).get(f"/write/articles/{article.pk}/revisions/?a=chosen&b=2").content.decode()
    assert "Variant 1 as generated → r2" in chosen and '<ins class="diff-added">from dawn to dusk' in chosen
    bad = client_for(editor).get(f"/write/articles/{article.pk}/revisions/?a=99&b=2")
    assert bad.status_code == 200 and "No such revision to compare" in bad.content.decode()


def test_revision_list_shows_who_when_note_and_machine_share(article, editor):  # noqa: F811
    save(client_for(editor), article, GENERATED + "\n\nA human paragraph of several words.", 1, note="Added a line")
    html = client_for(editor).get(f"/write/articles/{article.pk}/revisions/panel/").content.decode()
    assert "r2" in html and "edna" in html and "Added a line" in html and "Used variant 1" in html
    assert "100%" in html  # r1: all machine-written
    assert "/revisions/1/restore/" in html


def test_restore_makes_the_old_revision_the_next_one(article, editor):  # noqa: F811
    client = client_for(editor)
    save(client, article, "Different.", 1)
    response = client.post(f"/write/articles/{article.pk}/revisions/1/restore/", {"revision": 2}, follow=True)
    assert "Restored revision 1 as revision 3." in response.content.decode()
    article.refresh_from_db()
    assert article.body == GENERATED and article.revisions.get(number=3).note == "Restored r1"


def test_comments_add_and_list_with_a_quoted_passage(article, writer, editor):  # noqa: F811
    response = client_for(editor).post(f"/write/articles/{article.pk}/comments/add/",
                                       {"body": "Is eight hours right?", "quote": "eight hours"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    comment = Comment.objects.get()
    assert (comment.author, comment.quote, comment.revision) == (editor, "eight hours", 1)
    html = client_for(writer).get(f"/write/articles/{article.pk}/comments/").content.decode()
    assert "Is eight hours right?" in html and "<blockquote" in html and "on r1" in html and "edna" in html


def test_comment_errors_name_the_field(article, writer):  # noqa: F811
    response = client_for(writer).post(f"/write/articles/{article.pk}/comments/add/",
                                       {"body": "", "quote": "not in the text"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "The comment is empty." in html and "The quoted passage is not in the article" in html
    assert not Comment.objects.exists()


def test_writer_sees_a_read_only_editor_with_the_reason_once_submitted(article, writer, editor):  # noqa: F811
    article_transition(article=article, action="submit", membership=member(writer, article))
    html = client_for(writer).get(f"/write/articles/{article.pk}/edit/").content.decode()
    assert "Read only." in html and "The article is in review; only editors change it now." in html
    assert 'id="editor"' not in html
    refused = save(client_for(writer), article, "Sneaky change.", 1)
    assert refused.status_code == 403 and "only editors change it now" in refused.content.decode()
    assert save(client_for(editor), article, GENERATED + " Reviewed.", 1).status_code == 200


def test_other_writers_see_why_they_cannot_edit(article, make_member, workspace):  # noqa: F811
    other = make_member("writer", workspace, username="walt")
    html = client_for(other).get(f"/write/articles/{article.pk}/edit/").content.decode()
    assert "Read only." in html and "may do this only on what you created" in html


def test_archived_article_is_read_only_for_editors_too(article, editor):  # noqa: F811
    article_transition(article=article, action="archive", membership=member(editor, article))
    html = client_for(editor).get(f"/write/articles/{article.pk}/edit/").content.decode()
    assert "The article is archived; reopen it to edit." in html


@pytest.fixture
def style(workspace):
    from styles.services import style_create

    return style_create(workspace=workspace, user=None, name="Sunny", voice="Bright.")


def test_rewrite_request_answers_a_suggestion_card_that_streams(article, editor, style):  # noqa: F811
    response = client_for(editor).post(f"/write/articles/{article.pk}/suggestions/",
                                       {"passage": "eight hours", "style": style.pk}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    suggestion = Generation.objects.get(kind="suggestion")
    assert f'data-ws="/ws/generations/{suggestion.pk}/"' in html and "Sunny" in html
    assert suggestion.created_by == editor and suggestion.passage == "eight hours"
    empty = client_for(editor).post(f"/write/articles/{article.pk}/suggestions/", {"passage": ""}, HTTP_HX_REQUEST="true")
    assert "Select the passage to rewrite" in empty.content.decode()


def test_accept_answers_the_new_text_and_revision(article, editor):  # noqa: F811
    suggestion = Generation.objects.create(
        article=article, workspace=article.workspace, variant=0, kind="suggestion", status="completed",
        text="twelve hours", passage="eight hours", prompt="p", model_name="default", params={}, seed=1, created_by=editor)
    response = client_for(editor).post(f"/write/suggestions/{suggestion.pk}/accept/", {"revision": 1})
    answer = response.json()
    assert response.status_code == 200 and answer["revision"] == 2 and "twelve hours on one charge" in answer["body"]
    assert Article.objects.get(pk=article.pk).revisions.get(number=2).generation_id == suggestion.pk
    again = client_for(editor).post(f"/write/suggestions/{suggestion.pk}/discard/")
    assert again.status_code == 400 and "accepted already" in again.json()["error"]


@pytest.mark.parametrize("value", ["abc", "9" * 30, "9" * 5000, "-1", "١٢", ""])
def test_bad_numbers_in_the_editor_are_never_a_server_error(article, editor, value):  # noqa: F811
    client = client_for(editor)
    answers = {
        "save": save(client, article, "Text", value).status_code,
        "diff": client.get(f"/write/articles/{article.pk}/revisions/", {"a": value, "b": value}).status_code,
        "restore": client.post(f"/write/articles/{article.pk}/revisions/1/restore/", {"revision": value}).status_code,
        "rewrite": client.post(f"/write/articles/{article.pk}/suggestions/", {"passage": "x", "style": value}).status_code,
        "accept": client.post(f"/write/suggestions/{article.chosen_id}/accept/", {"revision": value}).status_code,
    }
    assert all(code < 500 for code in answers.values()), answers
    assert answers["save"] == 400
    huge = client.post(f"/write/articles/{article.pk}/revisions/{'9' * 30}/restore/")
    assert huge.status_code in (302, 404)
