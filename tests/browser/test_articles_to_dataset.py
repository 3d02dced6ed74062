"""An editor adds approved articles to a dataset in one action, in a real browser."""

import os
import re

import pytest
from playwright.sync_api import expect

from tests.conftest import ARTIFACTS
from tests.corpora.articles import accepted

pytestmark = pytest.mark.browser


def shoot(page, name: str) -> None:
    if os.environ.get("INKSTONE_SCREENSHOTS"):
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_an_editor_adds_approved_articles_to_a_dataset_and_sees_where_records_came_from(
        asgi_server, page, make_member, workspace):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from corpora.services import dataset_create_from_upload

    admin = make_member("admin", workspace, username="ada")
    writer = make_member("writer", workspace, username="wendy")
    make_member("editor", workspace, username="edna")
    dataset_create_from_upload(workspace=workspace, user=admin, name="Saltbeard voice", files=[SimpleUploadedFile(
        "v.jsonl", b'{"prompt": "Describe a tent.", "completion": "Arr, a fine tent, matey."}\n')])
    accepted(workspace, writer, "Stormhold 30 backpack", "The Stormhold 30 laughs at squalls, matey.")
    accepted(workspace, writer, "Galley Flame stove", status="published")
    accepted(workspace, writer, "A draft nobody approved", status="draft")

    page.goto(asgi_server + "/accounts/login/")
    page.get_by_label("Username").fill("edna")
    page.get_by_label("Password").fill("correct horse 42")
    page.get_by_role("button", name="Log in").click()
    page.goto(asgi_server + "/write/")
    expect(page.get_by_test_id("approved-to-dataset")).to_be_visible()
    page.goto(asgi_server + "/datasets/")
    page.get_by_role("link", name="Saltbeard voice").click()
    page.get_by_role("button", name="Add approved articles").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Add approved articles to a dataset")
    expect(page.get_by_text("A draft nobody approved")).to_have_count(0)
    expect(page.get_by_label("Add them to")).to_have_value(re.compile(r"\d+"))  # the dataset it came from
    page.get_by_label("Stormhold 30 backpack").check()
    page.get_by_label("Galley Flame stove").check()
    page.get_by_label("Note (optional)").fill("First approved batch")
    shoot(page, "articles-to-dataset-1280")
    page.set_viewport_size({"width": 390, "height": 844})
    shoot(page, "articles-to-dataset-390")
    width = page.evaluate("document.documentElement.scrollWidth")
    wide = page.evaluate("""[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 391)
        .slice(0, 8).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))""")
    assert width <= 390, f"the page scrolls sideways on a phone ({width}px wide): {wide}"
    page.set_viewport_size({"width": 1280, "height": 800})
    page.get_by_role("button", name="Add to the dataset as a new version").click()

    expect(page).to_have_url(re.compile(r"/datasets/\d+/v2/$"))
    expect(page.get_by_text("Version 2 of “Saltbeard voice”: 2 approved articles added.")).to_be_visible()
    expect(page.get_by_test_id("record-count")).to_have_text("3")
    from_articles = page.get_by_test_id("from-articles")
    expect(from_articles.get_by_role("link", name="Stormhold 30 backpack")).to_be_visible()
    expect(from_articles.get_by_role("link", name="Galley Flame stove")).to_be_visible()
    expect(page.get_by_test_id("record-article")).to_have_count(2)
    record = page.locator("article.record", has=page.get_by_test_id("record-article").get_by_text("Stormhold 30 backpack"))
    expect(record).to_contain_text("The Stormhold 30 laughs at squalls, matey.")
    shoot(page, "version-from-articles-1280")
    page.set_viewport_size({"width": 390, "height": 844})
    shoot(page, "version-from-articles-390")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the version page scrolls sideways on a phone ({width}px wide)"
