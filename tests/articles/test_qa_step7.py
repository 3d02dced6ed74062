"""Defects found trying Step 7 as a new user and as an attacker would (issue 10, QA pass)."""

from django.test import Client

from accounts.permissions import membership_for
from articles import editing
from articles.models import SUGGESTION, Comment, Generation
from tests.articles.test_editing import GENERATED, article, editor  # noqa: F401


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def suggestion_of(article, text="A rewritten passage.") -> Generation:  # noqa: F811
    """A finished "rewrite this paragraph" run on the article (as editing.suggestion_create leaves it)."""
    draft = article.generations.get(kind="draft")
    return Generation.objects.create(
        article=article, workspace_id=article.workspace_id, variant=0, kind=SUGGESTION, prompt="Rewrite: The Sun Lantern", model_name=draft.model_name,
        params={}, seed=1, status="completed", text=text, passage="The Sun Lantern charges all day.",
        created_by=draft.created_by)


def test_use_this_one_refuses_a_suggestion_and_keeps_the_text(article, editor):  # noqa: F811
    """A suggestion rewrites one passage: posting its id to "Use this one" must not replace the
    whole article (a published one's public text included) with it."""
    suggestion = suggestion_of(article)
    response = client_for(editor).post(f"/write/articles/{article.pk}/use/{suggestion.pk}/")
    assert response.status_code == 404
    article.refresh_from_db()
    assert article.body == GENERATED and article.revision == 1


def test_provenance_names_an_accepted_suggestion_as_such(article, editor):  # noqa: F811
    """An accepted rewrite showed as "Variant 0 · suggestion · free prompt" in the provenance table."""
    suggestion = suggestion_of(article)
    editing.suggestion_accept(suggestion=suggestion, membership=membership_for(editor, article.workspace_id),
                              base_revision=article.revision)
    html = client_for(editor).get(f"/write/articles/{article.pk}/").content.decode()
    row = html[html.index(f'data-testid="provenance-{suggestion.pk}"'):]
    row = row[:row.index("</tr>")]
    assert "Variant 0" not in row and "free prompt" not in row
    assert "Suggestion" in row and "rewrote a passage" in row


def test_pages_show_the_latest_comments_not_ten_thousand(article, editor):  # noqa: F811
    """Any member may post comments; with 10,000 of them the article page was 6 MB and took
    seconds. Pages show the newest ones and say how many are left out; the count stays right."""
    Comment.objects.bulk_create([Comment(article=article, author=editor, body=f"Note number {i}.", revision=1)
                                 for i in range(1_000)])
    client = client_for(editor)
    for url in (f"/write/articles/{article.pk}/", f"/write/articles/{article.pk}/edit/",
                f"/write/articles/{article.pk}/comments/"):
        html = client.get(url).content.decode()
        assert "Note number 999." in html, url  # the newest is shown
        assert "Note number 0." not in html, url  # the oldest are left out ...
        assert html.count("Note number ") <= 2 * 100, url
        assert "older comments not shown" in html, url  # ... and the page says so
    edit = client.get(f"/write/articles/{article.pk}/edit/").content.decode()
    assert "Comments <small class=\"muted\">(1,000)</small>" in edit


def test_a_draft_without_text_offers_no_submit_button(workspace, writer):
    """Right after "Write it" (no variant used yet) the page offered "Submit for review", which
    only answered an error page; the API listed "submit" in allowed_actions likewise."""
    from articles import services
    from articles.workflow import allowed_moves

    draft = services.draft_create(workspace=workspace, user=writer, request=services.DraftRequest(prompt="Lantern"))
    html = client_for(writer).get(f"/write/articles/{draft.pk}/").content.decode()
    assert 'data-testid="move-submit"' not in html
    assert "submit" not in allowed_moves(membership_for(writer, workspace.pk), draft)
    generation = draft.generations.get()
    Generation.objects.filter(pk=generation.pk).update(status="completed", text=GENERATED)
    generation.refresh_from_db()
    services.article_choose(article=draft, generation=generation, membership=membership_for(writer, workspace.pk))
    html = client_for(writer).get(f"/write/articles/{draft.pk}/").content.decode()
    assert 'data-testid="move-submit"' in html


def test_a_passage_that_appears_twice_is_refused_not_rewritten_in_the_wrong_place(article, editor):  # noqa: F811
    """Accepting replaced the first occurrence of the passage, whichever one was selected: with a
    sentence that appears twice, the wrong one was rewritten."""
    import pytest

    from articles.revisions import article_save

    membership = membership_for(editor, article.workspace_id)
    body = "Close the tap.\n\nCheck the pipes, then close the tap."
    article_save(article=article, membership=membership, title=article.title, body=body, base_revision=1)
    with pytest.raises(editing.SuggestionError) as refused:
        editing.suggestion_create(article=article, membership=membership, passage="the tap.", instruction="Shorter.")
    assert "2 times" in refused.value.errors["passage"]
    # unique when asked, repeated by the time it is accepted: refused as well, the text kept
    suggestion = editing.suggestion_create(article=article, membership=membership, passage="Check the pipes",
                                           instruction="Shorter.")
    Generation.objects.filter(pk=suggestion.pk).update(status="completed", text="Inspect pipes")
    suggestion.refresh_from_db()
    article_save(article=article, membership=membership, title=article.title,
                 body=body + "\n\nCheck the pipes every year.", base_revision=2)
    with pytest.raises(editing.SuggestionError) as refused:
        editing.suggestion_accept(suggestion=suggestion, membership=membership, base_revision=3)
    assert "2 times" in refused.value.errors["passage"]
    article.refresh_from_db()
    assert article.revision == 3 and "Inspect pipes" not in article.body


def test_a_quote_selected_in_the_preview_is_accepted(article, editor):  # noqa: F811
    """The form says "select text in the editor or the preview", but text selected in the preview
    (bold words, a list) is not the Markdown source, and was refused as "not in the text"."""
    from articles.comments import comment_add
    from articles.revisions import article_save
    from core.errors import FieldErrors

    membership = membership_for(editor, article.workspace_id)
    article_save(article=article, membership=membership, title=article.title,
                 body="Some **bold** words & more.\n\n- one\n- two", base_revision=1)
    article.refresh_from_db()
    for quote in ("Some bold words & more.", "one\ntwo"):  # as the browser's selection gives them
        assert comment_add(article=article, membership=membership, body="Why?", quote=quote).quote == quote
    import pytest

    with pytest.raises(FieldErrors) as refused:
        comment_add(article=article, membership=membership, body="Why?", quote="Not in the text")
    assert "quote" in refused.value.errors
