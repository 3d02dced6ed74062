"""First journey in a real browser against a live ASGI server."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_writer_logs_in_sees_dashboard_switches_workspace_and_logs_out(asgi_server, page, make_member, workspace, other_workspace):
    from accounts.services import membership_set

    writer = make_member("writer", workspace, username="wendy")
    membership_set(workspace=other_workspace, user=writer, role="writer")

    page.goto(asgi_server + "/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.get_by_label("Username").fill("wendy")
    page.get_by_label("Password").fill("correct horse 42")
    page.get_by_role("button", name="Log in").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Acme Marketing")
    expect(page.get_by_text("You are writer in this workspace.")).to_be_visible()
    nav = page.locator("header nav")
    for label in ["Write", "My drafts", "Models", "Training", "Published"]:  # Review: editors'
        expect(nav.get_by_role("link", name=label, exact=True)).to_be_visible()
    # htmx and its ws extension are served locally (no CDN)
    assert page.evaluate("typeof htmx !== 'undefined' && htmx.version.startsWith('2.')")

    page.get_by_label("Workspace").select_option(label="Someone Else's Team")
    expect(page.get_by_role("heading", level=1)).to_have_text("Someone Else's Team")
    expect(page.get_by_text("Now working in Someone Else's Team.")).to_be_visible()

    page.get_by_test_id("user-menu").click()
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.goto(asgi_server + "/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))


def test_dashboard_is_usable_on_a_phone(asgi_server, browser, make_member, workspace):
    make_member("editor", workspace, username="eddie")
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    try:
        page.goto(asgi_server + "/accounts/login/")
        page.get_by_label("Username").fill("eddie")
        page.get_by_label("Password").fill("correct horse 42")
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Acme Marketing")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"page scrolls sideways on a phone ({width}px wide)"
        write = page.locator("header nav").get_by_role("link", name="Write", exact=True)
        expect(write).to_be_hidden()
        page.locator("label.nav-toggle-label").click()
        expect(write).to_be_visible()
    finally:
        context.close()
