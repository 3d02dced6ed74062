import pytest


@pytest.fixture
def editor(make_member, workspace):
    return make_member("editor", workspace, username="edna")


@pytest.fixture
def writer(make_member, workspace):
    return make_member("writer", workspace, username="wendy")


def membership(user):
    return user.memberships.select_related("workspace").get()


@pytest.fixture
def make_article(workspace, writer):
    """make_article(title, body, status="approved", workspace=...) -> Article (no generation)."""
    from articles.models import Article

    def make(title="Saving water at home", body="Turn off the tap.\n\nFix the leaks.", status="approved", on=None):
        return Article.objects.create(workspace=on or workspace, title=title, body=body, status=status,
                                      created_by=writer)

    return make


@pytest.fixture
def publish(editor):
    """publish(article) -> the article, published by the editor through the workflow."""
    from articles.workflow import article_transition

    def run(article, by=None):
        article_transition(article=article, action="publish", membership=membership(by or editor))
        article.refresh_from_db()
        return article

    return run
