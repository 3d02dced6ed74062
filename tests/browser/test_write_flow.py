"""The write flow as a new user meets it, in Chromium: the new-draft form, the article page with
several runs per variant, streaming that does not jump, and the pages on a phone."""

import asyncio
import threading

import pytest
from playwright.sync_api import expect

from articles import services
from articles.events import piece_event, state_event
from articles.models import Generation, generation_group
from prompts.services import prompt_create

pytestmark = pytest.mark.browser


def log_in(page, base, username="wendy"):
    page.goto(base + "/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("correct horse 42")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("h1")).to_be_visible()


HTMX_ERRORS = """
for (const name of ["htmx:oobErrorNoTarget", "htmx:targetError", "htmx:swapError", "htmx:wsError"]) {
  document.addEventListener(name, (e) => window.reportHtmxError(`${name} ${e.detail.content ? e.detail.content.id : ""}`));
}
"""


def console_errors(page) -> list[str]:
    """Console errors, uncaught page errors and htmx's error events (an out-of-band fragment
    without a target is an event that htmx does not always print)."""
    found = []
    page.on("console", lambda m: found.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: found.append(f"page error: {error}"))
    page.expose_function("reportHtmxError", lambda text: found.append(text))
    page.add_init_script(HTMX_ERRORS)
    return found


def publish(generation_id: int, event: dict) -> None:
    """What the worker does (from another thread: Playwright's sync API runs a loop in this one)."""
    from channels.layers import get_channel_layer

    thread = threading.Thread(target=lambda: asyncio.run(get_channel_layer().group_send(generation_group(generation_id), event)))
    thread.start()
    thread.join()


def test_a_refused_draft_keeps_what_was_typed_and_says_what_is_missing(asgi_server, page, make_member, workspace):
    writer = make_member("writer", workspace, username="wendy")
    template = prompt_create(workspace=workspace, user=writer, name="Blog post", category="free",
                  body="Write a post titled {title} about {topic} for {audience}.",
                  variables=[{"name": "title", "required": True}, {"name": "topic", "required": True},
                             {"name": "audience"}])
    prompt_create(workspace=workspace, user=writer, name="Newsletter", category="free",
                  body="A newsletter item about {topic}.", variables=[{"name": "topic", "required": True}])
    log_in(page, asgi_server)
    page.goto(asgi_server + "/write/new/")
    page.locator("#id_template").select_option(label="Blog post")
    fields = page.locator("#template-fields")
    expect(fields.get_by_label("Topic")).to_be_visible()
    # one field called "Title": the template's variable; the article's own title says what it is
    expect(page.get_by_label("Title", exact=True)).to_have_count(1)
    expect(page.get_by_label("Article title (optional)")).to_be_visible()
    fields.get_by_label("Topic").fill("saving water at home")
    # picking another template reloads the fields, keeping what was typed into a field of that name
    page.locator("#id_template").select_option(label="Newsletter")
    expect(fields.get_by_label("Audience")).to_have_count(0)
    expect(fields.get_by_label("Topic")).to_have_value("saving water at home")
    page.locator("#id_template").select_option(label="Blog post")
    expect(fields.get_by_label("Audience")).to_be_visible()
    expect(fields.get_by_label("Topic")).to_have_value("saving water at home")
    fields.get_by_label("Audience").fill("families")
    page.get_by_role("button", name="Write it").click()

    expect(page.get_by_text("Title is required.")).to_be_visible()
    page.wait_for_timeout(1000)  # htmx had reloaded the variable fields by now, wiping the message and the values
    expect(page.get_by_text("Title is required.")).to_be_visible()
    expect(fields.get_by_label("Topic")).to_have_value("saving water at home")
    expect(fields.get_by_label("Audience")).to_have_value("families")
    expect(page.locator("#id_template")).to_have_value(str(template.pk))

    fields.locator("[name=var-title]").fill("Ten ways to save water")
    page.get_by_role("button", name="Write it").click()
    expect(page.locator("h1")).to_have_text("Ten ways to save water")  # the article is named by the variable
    page.goto(asgi_server + "/write/")
    expect(page.get_by_role("link", name="Ten ways to save water")).to_be_visible()


def _runs(workspace, writer):
    """An article whose only variant was drafted, regenerated and continued (this one cut short)."""
    article = services.draft_create(workspace=workspace, user=writer, request=services.DraftRequest(prompt="Water tips"))
    first = article.generations.get()
    Generation.objects.filter(pk=first.pk).update(status="completed", finish_reason="stop", seq=1,
                                                  text="<<Reminders to Save Water>> Turn off the tap.")
    first.refresh_from_db()
    second = services.generation_again(generation=first, user=writer, kind="regenerate")
    Generation.objects.filter(pk=second.pk).update(status="completed", finish_reason="stop", seq=1, text="Fix leaks first.")
    second.refresh_from_db()
    third = services.generation_continue(generation=second, user=writer)
    Generation.objects.filter(pk=third.pk).update(status="completed", finish_reason="length", seq=1,
                                                  text=" Then water the gar")
    return article, first, second, third


def test_every_run_stays_reachable_and_the_chosen_one_is_marked(asgi_server, page, make_member, workspace):
    writer = make_member("writer", workspace, username="wendy")
    article, first, second, third = _runs(workspace, writer)
    errors = console_errors(page)
    log_in(page, asgi_server)
    with page.expect_websocket() as socket_info:
        page.goto(asgi_server + article.get_absolute_url())
    socket_info.value.wait_for_event("framereceived")
    # the socket sends the state of every run of the article (wait_for_timeout, not time.sleep:
    # Playwright delivers console events while it waits)
    page.wait_for_timeout(2500)
    assert errors == [], errors  # every run it sends is on the page

    latest = page.locator(f"#gen-{third.pk}")
    expect(latest).to_contain_text("Fix leaks first. Then water the gar")
    expect(latest.get_by_test_id(f"length-limit-{third.pk}")).to_contain_text("Stopped at the length limit")
    expect(page.get_by_text("Earlier runs (2)")).to_be_visible()
    expect(page.locator(f"#gen-{first.pk}")).to_be_hidden()
    page.get_by_text("Earlier runs (2)").click()
    earlier = page.locator(f"#gen-{first.pk}")
    expect(earlier).to_be_visible()
    expect(earlier).to_contain_text("<<Reminders to Save Water>> Turn off the tap.")
    expect(earlier).to_contain_text("draft")
    expect(page.locator(f"#gen-{second.pk}")).to_contain_text("regenerate")

    # a new run takes the variant's place at once; the one it replaces joins the earlier runs
    latest.get_by_role("button", name="Regenerate").click()
    expect(page.get_by_text("Earlier runs (3)")).to_be_visible()
    fourth = article.generations.latest("created_at")
    expect(page.get_by_test_id(f"status-{fourth.pk}")).to_have_text("Queued")
    page.get_by_text("Earlier runs (3)").click()
    expect(page.locator(f"#gen-{third.pk}")).to_contain_text("Stopped at the length limit")

    page.locator(f"#gen-{first.pk}").get_by_role("button", name="Use this one").click()
    expect(page.get_by_test_id("article-body")).to_contain_text("<<Reminders to Save Water>>")
    page.get_by_text("Earlier runs (3)").click()
    chosen = page.locator(f"#gen-{first.pk}")
    expect(chosen.get_by_test_id(f"in-use-{first.pk}")).to_have_text("In use")
    expect(chosen.get_by_role("button", name="In use")).to_be_disabled()
    expect(page.locator(f"#gen-{third.pk}").get_by_role("button", name="Use this one")).to_be_enabled()
    page.wait_for_timeout(1000)
    assert errors == [], errors


def test_a_streamed_card_does_not_jump_when_it_finishes(asgi_server, page, make_member, workspace):
    writer = make_member("writer", workspace, username="wendy")
    article = services.draft_create(workspace=workspace, user=writer, request=services.DraftRequest(prompt="Water tips", variants=3))
    generation = article.generations.get(variant=1)
    Generation.objects.filter(pk=generation.pk).update(status="running")
    text = ("# Saving water at home\n\nA few habits go a long way, and they cost nothing at all.\n\n"
            "| Habit | Litres saved a day |\n|---|---|\n| Shorter showers | 40 |\n| Full dishwasher | 20 |\n"
            "| Tap off while brushing | 12 |\n| Fix a dripping tap | 15 |\n| Jug in the fridge | 5 |\n"
            "| Water the garden at dusk | 30 |\n\n## Start small\n\n- One habit this week.\n- Another next week.\n\n"
            "Then add another.")
    words = text.split(" ")
    pieces = [w if i == 0 else " " + w for i, w in enumerate(words)]
    log_in(page, asgi_server)
    with page.expect_websocket() as socket_info:
        page.goto(asgi_server + article.get_absolute_url())
    socket_info.value.wait_for_event("framereceived")
    for seq, piece in enumerate(pieces, 1):
        publish(generation.pk, piece_event(generation.pk, seq, piece, tokens=seq, elapsed=0.1 * seq))
    expect(page.get_by_test_id(f"text-{generation.pk}")).to_contain_text("Then add another")
    page.wait_for_timeout(500)
    streamed = page.locator(f"#gen-{generation.pk}").bounding_box()["height"]

    Generation.objects.filter(pk=generation.pk).update(status="completed", finish_reason="stop", text=text,
                                                       seq=len(pieces), completion_tokens=len(pieces))
    publish(generation.pk, state_event(Generation.objects.get(pk=generation.pk)))
    expect(page.get_by_test_id(f"status-{generation.pk}")).to_have_text("Done")
    finished = page.locator(f"#gen-{generation.pk}").bounding_box()["height"]
    assert abs(finished - streamed) / streamed < 0.15, f"the card went from {streamed:.0f} to {finished:.0f} px"
    expect(page.get_by_role("heading", name="Start small")).to_be_visible()


def test_write_pages_fit_a_phone_and_every_nav_link_is_reachable(asgi_server, browser, make_member, workspace):
    writer = make_member("writer", workspace, username="wendy")
    for n in range(3):
        services.draft_create(workspace=workspace, user=writer, request=services.DraftRequest(
            prompt=f"A rather long prompt number {n} about saving water in a busy family home"))
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    try:
        log_in(page, asgi_server)
        for path in ("/write/", "/write/new/"):
            page.goto(asgi_server + path)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, f"{path} scrolls sideways on a phone ({width}px wide)"
        page.locator("label.nav-toggle-label").click()
        nav = page.locator("header nav")
        nav.get_by_text("Library").click()
        expect(nav.get_by_role("link", name="Prompts")).to_be_visible()
        for name in ("Models", "Training"):
            nav.get_by_role("link", name=name, exact=True).click(trial=True)  # visible and not covered
        nav.get_by_role("link", name="Training", exact=True).click()
        expect(page.locator("h1")).to_have_text("Training")
    finally:
        context.close()


def test_the_site_has_a_favicon(asgi_server, page, make_member, workspace):
    make_member("writer", workspace, username="wendy")
    response = page.request.get(asgi_server + "/favicon.ico")
    assert response.ok, response.status
    log_in(page, asgi_server)
    href = page.locator("link[rel=icon]").get_attribute("href")
    assert page.request.get(asgi_server + href).ok
