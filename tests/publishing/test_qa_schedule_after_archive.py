"""An approved article with a publishing time that is then archived must not keep showing as
scheduled (found trying Step 7 as a new user would)."""

from datetime import timedelta

from django.test import Client
from django.utils import timezone

from articles.workflow import article_transition
from publishing import services
from tests.publishing.conftest import membership


def test_archiving_drops_a_scheduled_publish(make_article, editor):
    article = make_article(title="Tide tables")
    services.schedule(article=article, membership=membership(editor), publish_at=timezone.now() + timedelta(hours=1))
    article_transition(article=article, action="archive", membership=membership(editor))
    article.refresh_from_db()
    assert article.status == "archived" and article.publish_at is None
    client = Client()
    client.force_login(editor)
    html = client.get("/write/published/").content.decode()
    assert "Tide tables" not in html  # not listed under "Scheduled" any more
