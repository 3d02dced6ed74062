"""Library journeys in a real browser: a template with a live preview, a style."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def log_in(page, base, username):
    page.goto(base + "/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("correct horse 42")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()


def test_create_a_template_with_two_variables_and_watch_the_preview(asgi_server, page, make_member, workspace):
    make_member("writer", workspace, username="wendy")
    log_in(page, asgi_server, "wendy")
    page.goto(asgi_server + "/prompts/new/")
    page.get_by_label("Name", exact=True).fill("Launch post")
    rows = page.locator(".variable-row")
    rows.nth(0).get_by_label("Variable name").fill("product")
    rows.nth(0).get_by_label("Label").fill("Product")
    page.get_by_role("button", name="+ Add a variable").click()
    expect(rows).to_have_count(2)
    rows.nth(1).get_by_label("Variable name").fill("audience")
    rows.nth(1).get_by_label("Default").fill("campers")

    preview = page.get_by_test_id("preview")
    page.get_by_label("Template").fill("Announce {product} to {audience}.")
    expect(preview).to_have_text("Announce [Product] to campers.")
    page.get_by_label("Template").fill("Announce {product} to {audiense}.")
    expect(page.get_by_test_id("preview-error")).to_contain_text("line 1, column 23: unknown variable {audiense}")
    page.get_by_label("Template").fill("Announce {product} to {audience}!")
    expect(preview).to_have_text("Announce [Product] to campers!")

    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Launch post")
    page.get_by_label("Product").fill("the Sun Lantern")
    expect(page.get_by_test_id("final-prompt")).to_have_text("Announce the Sun Lantern to campers!")


def test_editor_creates_a_style_and_sees_its_system_prompt(asgi_server, page, make_member, workspace):
    make_member("editor", workspace, username="eddie")
    log_in(page, asgi_server, "eddie")
    page.goto(asgi_server + "/styles/new/")
    page.get_by_label("Name").fill("Trail guide")
    page.get_by_label("Voice").fill("Calm and practical, like a ranger at the trailhead.")
    page.get_by_label("Banned words").fill("epic, awesome")
    system_prompt = page.get_by_test_id("system-prompt")
    expect(system_prompt).to_contain_text("You are a writer for Trail guide.")
    expect(system_prompt).to_contain_text("Do not use these words: epic, awesome.")
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(re.compile(r"/styles/\d+/$"))
    expect(page.get_by_test_id("system-prompt")).to_contain_text("Voice: Calm and practical")


def test_editor_compares_two_style_versions_and_restores_the_first(asgi_server, page, make_member, workspace):
    from styles.services import style_create, style_update

    editor = make_member("editor", workspace, username="eddie")
    profile = style_create(workspace=workspace, user=editor, name="Trail guide", tone="calm")
    style_update(profile=profile, user=editor, name="Trail guide", tone="brisk")
    style_update(profile=profile, user=editor, name="Trail guide", tone="brisk", default_params={"temperature": 0.2})
    log_in(page, asgi_server, "eddie")
    page.goto(asgi_server + f"/styles/{profile.pk}/")
    page.get_by_role("row", name="v3").get_by_role("link", name="diff").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Trail guide: v2 → v3")
    expect(page.get_by_text("Also changed: default params.")).to_be_visible()
    page.get_by_label("From version").select_option("v1")
    page.get_by_role("button", name="Compare").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Trail guide: v1 → v3")
    expect(page.locator(".diff-removed")).to_have_text("- Tone: calm")
    expect(page.locator(".diff-added")).to_have_text("+ Tone: brisk")
    page.get_by_role("link", name="Back to the style profile").click()
    page.get_by_role("row", name="v1").get_by_role("button", name="restore").click()
    expect(page.get_by_text("Restored version 1 as version 4.")).to_be_visible()
    expect(page.get_by_test_id("system-prompt")).to_contain_text("Tone: calm")
