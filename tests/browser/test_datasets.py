"""An admin uploads the example dataset in a real browser and sees its stats and chart."""

import re

import pytest
from playwright.sync_api import expect

from corpora.starter import EXAMPLE_FILE

pytestmark = pytest.mark.browser


def test_admin_uploads_a_dataset_and_sees_stats_and_chart(asgi_server, page, make_member, workspace):
    make_member("admin", workspace, username="ada")
    records = sum(1 for line in EXAMPLE_FILE.read_text().splitlines() if line.strip())

    page.goto(asgi_server + "/accounts/login/")
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill("correct horse 42")
    page.get_by_role("button", name="Log in").click()

    page.goto(asgi_server + "/datasets/")
    expect(page.get_by_text("No datasets yet.")).to_be_visible()
    page.get_by_role("button", name="New dataset").click()
    page.locator("#id_name").fill("Saltbeard voice")
    page.locator("#id_files").set_input_files(str(EXAMPLE_FILE))
    page.get_by_role("button", name="Create dataset").click()

    expect(page).to_have_url(re.compile(r"/datasets/\d+/v1/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Saltbeard voice")
    expect(page.get_by_test_id("record-count")).to_have_text(str(records))
    chart = page.get_by_test_id("length-chart")
    expect(chart).to_be_visible()
    assert chart.locator("rect.bar").count() >= 2
    expect(page.locator("article.record").first).to_contain_text("Prompt")

    # records page through htmx, without a full reload
    page.get_by_role("link", name="Next →").click()
    expect(page.locator("#records")).to_contain_text("Page 2 of")

    # the list filters as you type (htmx), and keeps the URL in step
    page.get_by_role("link", name="Datasets").first.click()
    page.get_by_role("searchbox").fill("no such thing")
    expect(page.get_by_text("No datasets match “no such thing”.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"q=no(%20|\+)such"))
    page.get_by_role("searchbox").fill("saltbeard")
    expect(page.get_by_role("link", name="Saltbeard voice")).to_be_visible()

    # usable on a phone: nothing scrolls sideways
    page.set_viewport_size({"width": 390, "height": 844})
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the dataset page scrolls sideways on a phone ({width}px wide)"


def test_choosing_a_big_csv_sends_only_its_head_to_map_columns(asgi_server, page, make_member, workspace, tmp_path):
    make_member("admin", workspace, username="ada")
    big = tmp_path / "support.csv"
    row = "How do I reset my lantern?,Hold the button for five seconds until it blinks twice.\n"
    big.write_text("question,answer\n" + row * (4 * 1024 * 1024 // len(row)))  # about 4 MB

    page.goto(asgi_server + "/accounts/login/")
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill("correct horse 42")
    page.get_by_role("button", name="Log in").click()
    page.goto(asgi_server + "/datasets/new/")
    with page.expect_request(lambda r: "/csv-columns" in r.url) as sent:
        page.locator("#id_files").set_input_files(str(big))
    size = int(sent.value.all_headers()["content-length"])
    assert size < 80 * 1024, f"sent {size} bytes to read a header"  # the first 64 KB, not 4 MB
    expect(page.locator("#csv-columns")).to_contain_text("Header: question · answer")
    page.get_by_label("Prompt column").select_option("question")


def test_a_bad_large_upload_shows_its_problems_and_leaves_no_dataset(asgi_server, page, make_member, workspace, tmp_path):
    """Over 2 MB, so the real worker reads it; the page the browser was sent to polls until the
    problems come, and the dataset list stays empty."""
    from django.db import connection

    from corpora.models import Dataset, DatasetVersion, Record
    from tests.support import start_worker, stop

    make_member("admin", workspace, username="ada")
    bad = tmp_path / "support.csv"
    row = "How do I reset my lantern?\n"  # one field where the header has two
    bad.write_text("prompt,completion\n" + row * (3 * 1024 * 1024 // len(row)))
    worker = start_worker(connection.settings_dict, "generation", tmp_path / "worker.log")
    try:
        page.goto(asgi_server + "/accounts/login/")
        page.get_by_label("Username").fill("ada")
        page.get_by_label("Password").fill("correct horse 42")
        page.get_by_role("button", name="Log in").click()
        page.goto(asgi_server + "/datasets/new/")
        page.locator("#id_name").fill("Lantern support")
        page.locator("#id_files").set_input_files(str(bad))
        expect(page.locator("#csv-columns")).to_contain_text("Header: prompt · completion")
        page.get_by_role("button", name="Create dataset").click()

        expect(page).to_have_url(re.compile(r"/datasets/uploads/\d+/$"))
        expect(page.get_by_role("heading", level=1)).to_have_text("New dataset “Lantern support”")
        problems = page.get_by_test_id("upload-problems")
        expect(problems).to_contain_text("Nothing was stored.", timeout=60_000)
        expect(problems.locator("tbody tr").first).to_have_text(re.compile(r"support\.csv\s*2\s*expected 2 fields, found 1"))
        expect(problems).to_contain_text("Showing the first 500 of")
    finally:
        stop(worker)
    assert (Dataset.objects.count(), DatasetVersion.objects.count(), Record.objects.count()) == (0, 0, 0)

    problems.get_by_role("link", name="upload them again").click()
    expect(page).to_have_url(re.compile(r"/datasets/new/$"))
    page.goto(asgi_server + "/datasets/")
    expect(page.get_by_text("No datasets yet.")).to_be_visible()
