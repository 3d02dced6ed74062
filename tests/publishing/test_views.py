"""Public pages, feeds and the members' publishing panel, as a visitor's browser receives them."""

import re
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from articles.models import Article
from tests.publishing.conftest import membership

S = Article.Status
ATOM = "{http://www.w3.org/2005/Atom}"


def meta(html: str, prop: str) -> str:
    found = re.search(rf'<meta (?:property|name)="{re.escape(prop)}" content="([^"]*)"', html)
    assert found, f"no {prop} in the page"
    return found.group(1)


@pytest.fixture
def anonymous():
    return Client()


def test_a_published_article_is_public_with_its_title_og_tags_and_canonical_url(anonymous, workspace, make_article, publish):
    article = publish(make_article(title="Saving water at home",
                                   body="# Saving water at home\n\nA dripping tap wastes **15 litres** a day.\n\n## Fix it\n\nChange the washer."))
    path = f"/p/{workspace.slug}/saving-water-at-home/"
    response = anonymous.get(path)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<title>Saving water at home · Acme Marketing</title>" in html
    assert f'<link rel="canonical" href="http://testserver{path}">' in html
    assert meta(html, "og:title") == "Saving water at home"
    assert meta(html, "og:type") == "article"
    assert meta(html, "og:url") == f"http://testserver{path}"
    assert meta(html, "og:description") == "A dripping tap wastes 15 litres a day."
    assert "<strong>15 litres</strong>" in html and "<h2>Fix it</h2>" in html
    assert html.count("Saving water at home</h1>") == 1  # the text's own title heading is not shown twice
    assert f'href="/p/{workspace.slug}/feed/"' in html and 'type="application/atom+xml"' in html
    assert 'class="topbar"' not in html and "Log out" not in html  # not the studio
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert article.slug == "saving-water-at-home"


def test_the_canonical_url_follows_the_host_the_page_was_asked_for(workspace, make_article, publish, settings):
    settings.ALLOWED_HOSTS = ["news.example.org"]
    publish(make_article(title="Hello"))
    html = Client().get(f"/p/{workspace.slug}/hello/", HTTP_HOST="news.example.org", secure=True).content.decode()
    assert f'<link rel="canonical" href="https://news.example.org/p/{workspace.slug}/hello/">' in html


@pytest.mark.parametrize("status", [S.DRAFT, S.IN_REVIEW, S.APPROVED, S.UNPUBLISHED, S.ARCHIVED, S.REJECTED])
def test_an_article_that_is_not_published_is_not_found(anonymous, workspace, make_article, status):
    Article.objects.create(workspace=workspace, title="Secret", body="Not yet.", status=status, slug="secret")
    assert anonymous.get(f"/p/{workspace.slug}/secret/").status_code == 404


def test_an_unpublished_article_disappears_from_its_page_and_the_index(anonymous, workspace, make_article, publish, editor):
    from articles.workflow import article_transition

    article = publish(make_article(title="Gone soon"))
    assert anonymous.get(f"/p/{workspace.slug}/gone-soon/").status_code == 200
    article_transition(article=article, action="unpublish", membership=membership(editor))
    assert anonymous.get(f"/p/{workspace.slug}/gone-soon/").status_code == 404
    assert "Gone soon" not in anonymous.get(f"/p/{workspace.slug}/").content.decode()


def test_another_workspaces_slug_or_an_unknown_slug_is_not_found(anonymous, workspace, other_workspace, make_article, publish):
    publish(make_article(title="Ours"))
    assert anonymous.get(f"/p/{other_workspace.slug}/ours/").status_code == 404
    assert anonymous.get(f"/p/{workspace.slug}/theirs/").status_code == 404
    assert anonymous.get("/p/no-such-team/").status_code == 404
    assert anonymous.get("/p/no-such-team/feed/").status_code == 404


def test_the_index_lists_published_articles_newest_first_and_links_its_feeds(anonymous, workspace, make_article, publish):
    first = publish(make_article(title="First post", body="One."))
    second = publish(make_article(title="Second post", body="Two."))
    Article.objects.filter(pk=first.pk).update(published_at=timezone.now() - timedelta(days=2))
    make_article(title="A draft", status=S.DRAFT)
    response = anonymous.get(f"/p/{workspace.slug}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.index("Second post") < html.index("First post") and "A draft" not in html
    assert f'href="/p/{workspace.slug}/{second.slug}/"' in html
    assert f'href="/p/{workspace.slug}/feed/"' in html and f'href="/p/{workspace.slug}/rss/"' in html
    assert "<title>Acme Marketing</title>" in html


def test_the_atom_feed_lists_published_articles_and_not_drafts(anonymous, workspace, make_article, publish):
    publish(make_article(title="Out now", body="The **first** paragraph.\n\nMore."))
    make_article(title="Still a draft", status=S.DRAFT)
    make_article(title="Approved, not out", status=S.APPROVED)
    response = anonymous.get(f"/p/{workspace.slug}/feed/")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/atom+xml")
    feed = ET.fromstring(response.content)
    entries = feed.findall(f"{ATOM}entry")
    assert [e.find(f"{ATOM}title").text for e in entries] == ["Out now"]
    assert entries[0].find(f"{ATOM}link").get("href") == f"http://testserver/p/{workspace.slug}/out-now/"
    assert entries[0].find(f"{ATOM}summary").text == "The first paragraph."
    assert "<strong>first</strong>" in entries[0].find(f"{ATOM}content").text
    assert feed.find(f"{ATOM}title").text == "Acme Marketing"


def test_the_rss_feed_lists_the_same_articles(anonymous, workspace, make_article, publish):
    publish(make_article(title="Out now"))
    make_article(title="Still a draft", status=S.DRAFT)
    response = anonymous.get(f"/p/{workspace.slug}/rss/")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/rss+xml")
    titles = [t.text for t in ET.fromstring(response.content).iter("title")]
    assert titles == ["Acme Marketing", "Out now"]


def test_the_article_page_offers_exports_print_and_scheduling_to_editors_only(client, make_article, editor, writer):
    article = make_article()
    client.force_login(editor)
    html = client.get(f"/write/articles/{article.pk}/").content.decode()
    for fmt in ("md", "html", "docx"):
        assert f'href="/write/articles/{article.pk}/export/{fmt}/"' in html
    assert f'href="/write/articles/{article.pk}/print/"' in html
    assert 'data-testid="schedule-form"' in html
    client.force_login(writer)
    html = client.get(f"/write/articles/{article.pk}/").content.decode()
    assert f'href="/write/articles/{article.pk}/print/"' in html and 'data-testid="schedule-form"' not in html


def test_an_editor_schedules_and_cancels_from_the_article_page(client, make_article, editor):
    from django_q.models import Schedule

    article = make_article()
    client.force_login(editor)
    when = (timezone.now() + timedelta(days=1)).replace(second=0, microsecond=0)
    response = client.post(f"/write/articles/{article.pk}/schedule/",
                           {"action": "save", "publish_at": when.strftime("%Y-%m-%dT%H:%M")}, follow=True)
    assert f"It will be published on {when:%Y-%m-%d at %H:%M} UTC." in response.content.decode()
    article.refresh_from_db()
    assert article.publish_at == when and Schedule.objects.count() == 1
    assert f'value="{when:%Y-%m-%dT%H:%M}"' in response.content.decode()  # the form shows it

    response = client.post(f"/write/articles/{article.pk}/schedule/", {"action": "cancel"}, follow=True)
    assert "Schedule cancelled." in response.content.decode()
    assert not Schedule.objects.exists()


def test_a_refused_schedule_says_which_field_is_wrong(client, make_article, editor):
    article = make_article(status=S.DRAFT)
    client.force_login(editor)
    when = timezone.now() + timedelta(days=1)
    html = client.post(f"/write/articles/{article.pk}/schedule/",
                       {"action": "save", "publish_at": when.strftime("%Y-%m-%dT%H:%M")}, follow=True).content.decode()
    assert "Publish at: only approved or unpublished articles can be scheduled (this one: draft)." in html
    html = client.post(f"/write/articles/{article.pk}/schedule/",
                       {"action": "save", "publish_at": "tomorrow-ish"}, follow=True).content.decode()
    assert "Publish at (UTC): Enter a valid date/time." in html


def test_a_text_without_paragraphs_still_describes_itself(anonymous, workspace, make_article, publish):
    publish(make_article(title="Checklist", body="- Fix the tap\n- Mulch the beds"))
    html = anonymous.get(f"/p/{workspace.slug}/checklist/").content.decode()
    assert meta(html, "og:description") == "Fix the tap Mulch the beds"


def test_the_published_page_lists_public_and_scheduled_articles_for_members(client, workspace, make_article, publish, editor, writer):
    from publishing import services

    publish(make_article(title="Out now"))
    later = make_article(title="Coming soon")
    when = (timezone.now() + timedelta(days=2)).replace(second=0, microsecond=0)
    services.schedule(article=later, membership=membership(editor), publish_at=when)
    make_article(title="Just a draft", status=S.DRAFT)
    client.force_login(writer)
    html = client.get("/write/published/").content.decode()
    published = html.split('data-testid="published"')[1]
    scheduled = html.split('data-testid="scheduled"')[1].split("</table>")[0]
    assert f'href="/p/{workspace.slug}/out-now/"' in published and "Coming soon" not in published
    assert "Coming soon" in scheduled and f"{when:%Y-%m-%d %H:%M} UTC" in scheduled
    assert "Just a draft" not in html
    assert f"http://testserver/p/{workspace.slug}/" in html
    assert 'href="/write/published/"' in html  # the navigation's Published link


def test_a_workspace_that_published_nothing_has_no_public_pages(client, workspace, other_workspace):
    for path in (f"/p/{other_workspace.slug}/", f"/p/{other_workspace.slug}/feed/", f"/p/{other_workspace.slug}/rss/"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert other_workspace.name not in response.content.decode()
