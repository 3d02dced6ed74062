"""The workflow as people meet it: buttons on the article page, the review queue and its filters,
the navigation's count, My drafts, the Published list and the provenance panel."""

from datetime import timedelta

import pytest
from django.utils import timezone

from articles.models import Article, Generation, Review
from articles.review_selectors import articles_filtered
from core.errors import FieldErrors


@pytest.fixture
def people(make_member, workspace):
    return {
        "author": make_member("writer", workspace, username="author"),
        "writer": make_member("writer", workspace, username="walt"),
        "editor": make_member("editor", workspace, username="edna"),
        "admin": make_member("admin", workspace, username="ada"),
    }


def make_article(workspace, author, status="draft", title="Lanterns", body="Some text worth reading."):
    return Article.objects.create(workspace=workspace, title=title, body=body, status=status, created_by=author, revision=1)


def as_user(client, user):
    client.force_login(user)
    return client


def buttons(response) -> set[str]:
    html = response.content.decode()
    return {action for action in ("submit", "request_changes", "reject", "approve", "publish", "unpublish", "archive", "reopen")
            if f'data-testid="move-{action}"' in html}


# The article page -------------------------------------------------------------------------

def test_a_writer_sees_submit_on_their_own_draft_only(client, people, workspace):
    own = make_article(workspace, people["author"])
    theirs = make_article(workspace, people["writer"], title="Not mine")
    as_user(client, people["author"])
    page = client.get(own.get_absolute_url())
    assert buttons(page) == {"submit"} and 'data-testid="article-status">Draft<' in page.content.decode()
    assert buttons(client.get(theirs.get_absolute_url())) == set()


def test_an_editor_sees_the_review_moves_on_an_article_in_review(client, people, workspace):
    article = make_article(workspace, people["author"], status="in_review")
    as_user(client, people["editor"])
    assert buttons(client.get(article.get_absolute_url())) == {"request_changes", "reject", "approve"}
    as_user(client, people["author"])
    assert buttons(client.get(article.get_absolute_url())) == set()


def test_an_admin_sees_publish_and_archive_on_an_approved_article(client, people, workspace):
    article = make_article(workspace, people["author"], status="approved")
    as_user(client, people["admin"])
    assert buttons(client.get(article.get_absolute_url())) == {"publish", "archive"}


def test_submitting_moves_the_article_and_shows_on_the_timeline(client, people, workspace):
    article = make_article(workspace, people["author"])
    as_user(client, people["author"])
    response = client.post(f"/write/articles/{article.pk}/transition/submit/", {"comment": "Ready, I think."}, follow=True)
    article.refresh_from_db()
    assert article.status == "in_review"
    html = response.content.decode()
    assert "Submitted for review" in html and 'data-testid="timeline"' in html and "Ready, I think." in html


def test_requesting_changes_without_a_comment_is_refused_and_says_why(client, people, workspace):
    article = make_article(workspace, people["author"], status="in_review")
    as_user(client, people["editor"])
    response = client.post(f"/write/articles/{article.pk}/transition/request_changes/", {"comment": ""})
    assert response.status_code == 400
    assert 'data-testid="comment-error"' in response.content.decode() and "needs a comment" in response.content.decode()
    article.refresh_from_db()
    assert article.status == "in_review"
    response = client.post(f"/write/articles/{article.pk}/transition/request_changes/", {"comment": "Shorter, please."})
    article.refresh_from_db()
    assert response.status_code == 302 and article.status == "changes_requested"


def test_a_move_that_does_not_exist_from_the_state_answers_409_with_the_reason(client, people, workspace):
    article = make_article(workspace, people["author"])
    as_user(client, people["editor"])
    response = client.post(f"/write/articles/{article.pk}/transition/approve/")
    assert response.status_code == 409
    assert "not possible while the article is draft" in response.content.decode()


def test_a_writer_approving_is_forbidden_and_an_unknown_action_is_not_found(client, people, workspace):
    article = make_article(workspace, people["author"], status="in_review")
    as_user(client, people["author"])
    response = client.post(f"/write/articles/{article.pk}/transition/approve/")
    assert response.status_code == 403 and "does not allow" in response.content.decode()
    assert client.post(f"/write/articles/{article.pk}/transition/explode/").status_code == 404
    article.refresh_from_db()
    assert article.status == "in_review"


# The review queue -------------------------------------------------------------------------

@pytest.fixture
def library(workspace, people):
    from catalog.models import ModelVersion
    from prompts.services import prompt_create
    from styles.services import style_create

    return {
        "template": prompt_create(workspace=workspace, user=people["editor"], name="Newsletter", category="free",
                                  body="Write about {x}", variables=[{"name": "x"}]),
        "style": style_create(workspace=workspace, user=people["editor"], name="House voice", voice="Warm."),
        "model": ModelVersion.objects.create(workspace=workspace, name="saltbeard", kind="model", source="/m", spec="/m"),
    }


def generation(article, template=None, style=None, model=None):
    return Generation.objects.create(
        article=article, workspace=article.workspace, model_name="default", model_version=model, prompt="p", seed=1,
        template_version=template.current if template else None, style_version=style.current if style else None,
        status="completed", text="Text.")


def submitted(article, days_ago):
    review = Review.objects.create(article=article, submitted_by=article.created_by)
    Review.objects.filter(pk=review.pk).update(submitted_at=timezone.now() - timedelta(days=days_ago))
    return article


@pytest.fixture
def queue(workspace, people, library):
    a = submitted(make_article(workspace, people["author"], status="in_review", title="Alpha"), 10)
    Article.objects.filter(pk=a.pk).update(chosen=generation(a, template=library["template"], style=library["style"]))
    b = submitted(make_article(workspace, people["writer"], status="in_review", title="Bravo"), 1)
    generation(b, model=library["model"])
    c = make_article(workspace, people["author"], status="draft", title="Charlie")
    generation(c, style=library["style"], model=library["model"])
    return {"a": a, "b": b, "c": c}


def titles(workspace, **params):
    return [a.title for a in articles_filtered(workspace, params)]


def test_each_filter_narrows_the_articles(workspace, people, library, queue):
    assert titles(workspace) == ["Alpha", "Bravo", "Charlie"]  # the longest waiting first
    assert titles(workspace, status="in_review") == ["Alpha", "Bravo"]
    assert titles(workspace, status="draft") == ["Charlie"]
    assert titles(workspace, writer=str(people["writer"].pk)) == ["Bravo"]
    assert titles(workspace, template=str(library["template"].pk)) == ["Alpha"]
    assert titles(workspace, style=library["style"].pk) == ["Alpha", "Charlie"]
    assert titles(workspace, model="saltbeard") == ["Bravo", "Charlie"]
    assert titles(workspace, model="default") == ["Alpha"]
    assert titles(workspace, older_than_days="5") == ["Alpha"]
    assert titles(workspace, newer_than_days="5") == ["Bravo", "Charlie"]
    assert titles(workspace, q="rav") == ["Bravo"]
    assert titles(workspace, status="in_review", sort="-submitted") == ["Bravo", "Alpha"]
    assert titles(workspace, style=library["style"].pk, model="saltbeard") == ["Charlie"]


@pytest.mark.parametrize(("params", "field"), [
    ({"status": "lost"}, "status"), ({"writer": "abc"}, "writer"), ({"template": "-1"}, "template"),
    ({"style": "1.5"}, "style"), ({"model": "no-such-model"}, "model"), ({"older_than_days": "soon"}, "older_than_days"),
    ({"newer_than_days": "-3"}, "newer_than_days"), ({"sort": "random"}, "sort"),
])
def test_a_bad_filter_value_is_refused_naming_the_parameter(workspace, params, field):
    with pytest.raises(FieldErrors) as caught:
        articles_filtered(workspace, params)
    assert set(caught.value.errors) == {field}


def test_the_queue_shows_in_review_by_default_and_filters_with_a_get_form(client, people, queue, library):
    as_user(client, people["editor"])
    html = client.get("/review/").content.decode()
    assert "Alpha" in html and "Bravo" in html and "Charlie" not in html
    assert html.index("Alpha") < html.index("Bravo")  # the longest waiting first
    assert f'href="{queue["a"].get_absolute_url()}"' in html
    assert "Newsletter v1" in html and "House voice v1" in html  # compact provenance
    html = client.get("/review/", {"status": "", "model": "saltbeard"}).content.decode()
    assert "Alpha" not in html and "Bravo" in html and "Charlie" in html
    response = client.get("/review/", {"older_than_days": "soon"})
    assert response.status_code == 400 and "older_than_days" in response.content.decode()


def test_a_writer_may_read_the_queue_but_moves_nothing_from_it(client, people, queue):
    as_user(client, people["author"])
    response = client.get("/review/")
    assert response.status_code == 200 and "Alpha" in response.content.decode()
    assert buttons(client.get(queue["b"].get_absolute_url())) == set()


def test_the_navigation_counts_articles_in_review_for_editors(client, people, queue):
    as_user(client, people["editor"])
    html = client.get("/").content.decode()
    assert 'data-testid="review-count"' in html and '2 in review' in html
    as_user(client, people["author"])
    html = client.get("/").content.decode()
    assert 'data-testid="nav-review"' not in html and "My drafts" in html


# My drafts and Published ------------------------------------------------------------------

def test_my_drafts_lists_my_articles_with_what_comes_next(client, people, workspace):
    from articles.workflow import article_transition

    mine = make_article(workspace, people["author"], title="Mine")
    make_article(workspace, people["writer"], title="Someone else's")
    article_transition(article=mine, action="submit", membership=people["author"].memberships.get())
    article_transition(article=mine, action="request_changes", membership=people["editor"].memberships.get(),
                       comment="Say more about wicks.")
    as_user(client, people["author"])
    html = client.get("/write/mine/").content.decode()
    assert "Mine" in html and "Someone else" not in html and "Changes requested" in html
    assert "Changes requested by edna: “Say more about wicks.”" in html


def test_published_lists_published_articles_with_their_public_address(client, people, workspace):
    from articles.workflow import article_transition

    article = make_article(workspace, people["author"], status="approved", title="Lantern Safety")
    make_article(workspace, people["author"], status="approved", title="Not yet")
    article_transition(article=article, action="publish", membership=people["editor"].memberships.get())
    as_user(client, people["writer"])
    html = client.get("/published/").content.decode()
    assert "Lantern Safety" in html and "Not yet" not in html
    assert f"/p/{workspace.slug}/lantern-safety/" in html


# Provenance -------------------------------------------------------------------------------

def test_the_article_page_shows_the_provenance_of_its_text(client, people, workspace, library):
    from articles.revisions import article_save
    from articles.services import article_choose

    article = make_article(workspace, people["author"], body="", title="Lanterns")
    article.revision = 0
    article.save()
    one = generation(article, template=library["template"], style=library["style"], model=library["model"])
    two = generation(article, style=library["style"])
    Generation.objects.filter(pk=one.pk).update(style_fit=0.81, text="The lantern glows warmly in the night.")
    Generation.objects.filter(pk=two.pk).update(style_fit=0.42, variant=2)
    member = people["author"].memberships.get()
    article_choose(article=article, generation=Generation.objects.get(pk=one.pk), membership=member)
    article.refresh_from_db()
    article_save(article=article, membership=member, title=article.title, body=article.body + " Written by hand, all of it.",
                 base_revision=article.revision)
    as_user(client, people["editor"])
    html = client.get(article.get_absolute_url()).content.decode()
    assert 'data-testid="provenance"' in html
    assert "saltbeard" in html and "Newsletter" in html and "House voice" in html and "seed=1" in html
    assert f'data-testid="fit-{one.pk}">0.81<' in html
    assert 'data-testid="machine-share"' in html and "machine-written" in html
    assert 'data-testid="revision-shares"' in html  # two revisions: the share per revision
    # the variant cards mark the one that sounds most like the voice
    assert f'data-testid="style-fit-{one.pk}"' in html and "closest to the voice" in html


def test_the_queue_pages_keep_the_filters(client, people, workspace):
    for i in range(27):
        make_article(workspace, people["writer"], status="in_review", title=f"Piece {i:02}")
    make_article(workspace, people["author"], status="in_review", title="Other writer")
    as_user(client, people["editor"])
    html = client.get("/review/", {"writer": people["writer"].pk, "q": "Piece"}).content.decode()
    assert "Page 1 of 2" in html
    assert f"writer={people['writer'].pk}" in html and "q=Piece" in html and "page=2" in html
    html = client.get("/review/", {"writer": people["writer"].pk, "q": "Piece", "page": 2}).content.decode()
    assert "Page 2 of 2" in html and html.count('data-testid="review-row-') == 2 and "Other writer" not in html
