"""Two editors edit one article at once in real browsers: the stale autosave is refused, the
conflict shows both texts, nothing typed is lost, and "keep mine" saves it as the next revision."""

import pytest
from playwright.sync_api import expect

from accounts.permissions import membership_for
from articles import services
from articles.models import Article, Generation
from tests.browser.test_content_security_policy import LISTENER
from tests.conftest import ARTIFACTS

pytestmark = pytest.mark.browser

GENERATED = "The Sun Lantern charges all day.\n\nIt lights a tent for **eight hours** on one charge."


def open_editor(browser, base, username, article, width=1280, problems=None):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    if problems is not None:  # CSP violations and script errors (a refused save's 409 is expected)
        page.expose_function("reportCspViolation", lambda text: problems.append(f"{username}: {text}"))
        page.add_init_script(LISTENER)
        page.on("pageerror", lambda error: problems.append(f"{username}: page error: {error}"))
        page.on("console", lambda m: problems.append(f"{username}: console: {m.text}")
                if m.type == "error" and "Failed to load resource" not in m.text else None)
        page.on("response", lambda r: problems.append(f"{username}: {r.status} {r.url}")
                if r.status >= 400 and r.status != 409 and not r.url.endswith("/favicon.ico") else None)
    page.goto(base + "/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("correct horse 42")
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{base}/write/articles/{article.pk}/")
    page.get_by_test_id("edit-link").click()
    expect(page.get_by_test_id("save-status")).to_have_text("Saved r1")
    return context, page


def type_at_end(page, text):
    area = page.locator("#editor-body")
    area.click()
    page.keyboard.press("Control+End")
    page.keyboard.type(text)


def test_two_editors_conflict_and_nothing_is_lost(asgi_server, browser, make_member, workspace):
    writer = make_member("writer", workspace, username="wendy")
    make_member("editor", workspace, username="alice")
    make_member("editor", workspace, username="bob")
    article = services.draft_create(workspace=workspace, user=writer, request=services.DraftRequest(prompt="Lantern"))
    generation = article.generations.get()
    Generation.objects.filter(pk=generation.pk).update(status="completed", text=GENERATED)
    generation.refresh_from_db()
    services.article_choose(article=article, generation=generation, membership=membership_for(writer, workspace.pk))

    problems: list[str] = []
    context_a, a = open_editor(browser, asgi_server, "alice", article, problems=problems)
    context_b, b = open_editor(browser, asgi_server, "bob", article, problems=problems)
    try:
        # live preview: rendered Markdown, updated as one types
        expect(a.get_by_test_id("preview").locator("strong")).to_have_text("eight hours")
        type_at_end(a, "\n\nAlice adds *a line*.")
        expect(a.get_by_test_id("preview").locator("em")).to_have_text("a line")
        expect(a.get_by_test_id("save-status")).to_contain_text("Saved r2")
        expect(a.get_by_test_id("base-revision")).to_have_value("2")

        type_at_end(b, "\n\nBob's closing sentence.")
        conflict = b.get_by_test_id("conflict")
        expect(conflict).to_be_visible()
        expect(conflict.get_by_test_id("conflict-theirs")).to_contain_text("Alice adds *a line*.")
        expect(conflict.get_by_test_id("conflict-yours")).to_contain_text("Bob's closing sentence.")
        expect(conflict.get_by_test_id("conflict-diff").locator("ins")).to_contain_text("Bob's closing sentence")
        expect(conflict.get_by_test_id("conflict-diff").locator("del")).to_contain_text("Alice adds")
        expect(b.locator("#editor-body")).to_have_value(GENERATED + "\n\nBob's closing sentence.")
        assert Article.objects.get(pk=article.pk).body.endswith("Alice adds *a line*.")  # theirs kept
        # autosave waits while the conflict is shown: typing more saves nothing
        type_at_end(b, " More.")
        b.wait_for_timeout(2500)
        assert Article.objects.get(pk=article.pk).revision == 2
        ARTIFACTS.mkdir(exist_ok=True)
        b.screenshot(path=str(ARTIFACTS / "editor-conflict-1280.png"), full_page=True)

        b.get_by_role("button", name="Keep mine (save over theirs)").click()
        expect(b.get_by_test_id("save-status")).to_contain_text("Saved r3")
        expect(conflict).to_be_hidden()
        saved = Article.objects.get(pk=article.pk)
        assert saved.revision == 3 and saved.body == GENERATED + "\n\nBob's closing sentence. More."
        assert saved.revisions.get(number=3).note == "Kept mine over r2"
        expect(b.get_by_test_id("revision-3")).to_contain_text("bob")
        expect(b.get_by_test_id("revision-2")).to_contain_text("alice")
        expect(b.get_by_test_id("revision-1")).to_contain_text("100%")

        # a comment on a passage selected in the text
        b.evaluate("""() => { const area = document.getElementById('editor-body');
            area.focus(); area.setSelectionRange(4, 16); area.dispatchEvent(new Event('select')); }""")
        expect(b.locator("#comment-quote")).to_have_value("Sun Lantern")
        expect(b.locator("#rewrite-passage")).to_have_value("Sun Lantern")
        b.locator("#comment-body").fill("Trademark sign here?")
        b.get_by_role("button", name="Add comment").click()
        expect(b.get_by_test_id("comment")).to_contain_text("Trademark sign here?")
        expect(b.get_by_test_id("comment").locator("blockquote")).to_have_text("Sun Lantern")
        expect(b.locator("#comment-body")).to_have_value("")

        # Alice takes theirs (Bob's): the editor reloads with the latest
        type_at_end(a, " Alice again.")
        expect(a.get_by_test_id("conflict")).to_be_visible()
        a.get_by_role("button", name="Take theirs").click()
        expect(a.locator("#editor-body")).to_have_value(saved.body)
        expect(a.get_by_test_id("base-revision")).to_have_value("3")
        b.screenshot(path=str(ARTIFACTS / "editor-1280.png"), full_page=True)
    finally:
        context_a.close()
        context_b.close()
    assert not problems, problems


def test_editor_is_usable_on_a_phone(asgi_server, browser, make_member, workspace):
    writer = make_member("writer", workspace, username="wendy")
    article = services.draft_create(workspace=workspace, user=writer, request=services.DraftRequest(prompt="Lantern"))
    generation = article.generations.get()
    Generation.objects.filter(pk=generation.pk).update(status="completed", text=GENERATED)
    generation.refresh_from_db()
    services.article_choose(article=article, generation=generation, membership=membership_for(writer, workspace.pk))
    context, page = open_editor(browser, asgi_server, "wendy", article, width=390)
    try:
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the editor scrolls sideways on a phone ({width}px wide)"
        type_at_end(page, "\n\nTyped on a phone.")
        expect(page.get_by_test_id("save-status")).to_contain_text("Saved r2")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "editor-390.png"), full_page=True)
        page.goto(f"{asgi_server}/write/articles/{article.pk}/revisions/?a=chosen&b=2")
        expect(page.get_by_test_id("diff").locator("ins")).to_contain_text("Typed on a phone.")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the diff page scrolls sideways on a phone ({width}px wide)"
        page.screenshot(path=str(ARTIFACTS / "revisions-390.png"), full_page=True)
    finally:
        context.close()


def send_event(generation_id: int, event: dict) -> None:
    """What a worker sends on the channel layer (from another thread: Playwright's sync API keeps
    an event loop running in this one)."""
    import asyncio
    import threading

    from channels.layers import get_channel_layer

    from articles.models import generation_group

    thread = threading.Thread(target=lambda: asyncio.run(get_channel_layer().group_send(generation_group(generation_id), event)))
    thread.start()
    thread.join()


def test_rewrite_a_passage_streams_a_suggestion_that_the_editor_accepts(asgi_server, browser, make_member, workspace):
    from articles.events import state_event

    writer = make_member("writer", workspace, username="wendy")
    article = services.draft_create(workspace=workspace, user=writer, request=services.DraftRequest(prompt="Lantern"))
    generation = article.generations.get()
    Generation.objects.filter(pk=generation.pk).update(status="completed", text=GENERATED)
    generation.refresh_from_db()
    services.article_choose(article=article, generation=generation, membership=membership_for(writer, workspace.pk))
    problems: list[str] = []
    context, page = open_editor(browser, asgi_server, "wendy", article, problems=problems)
    try:
        page.evaluate("""() => { const area = document.getElementById('editor-body');
            const start = area.value.indexOf('It lights'); area.focus();
            area.setSelectionRange(start, area.value.length); area.dispatchEvent(new Event('select')); }""")
        expect(page.locator("#rewrite-passage")).to_have_value("It lights a tent for **eight hours** on one charge.")
        page.locator("#rewrite-instruction").fill("Make it punchier.")
        page.get_by_role("button", name="Rewrite this passage").click()
        card = page.get_by_test_id("suggestion")
        expect(card).to_have_attribute("data-live", "1")  # its socket is open: the worker's pieces will arrive
        suggestion = Generation.objects.get(kind="suggestion")
        assert suggestion.passage == "It lights a tent for **eight hours** on one charge."
        expect(card.get_by_role("button", name="Accept")).to_be_disabled()
        send_event(suggestion.pk, {"type": "generation.piece", "id": suggestion.pk, "seq": 1, "text": "Eight hours",
                                   "tokens": 1, "elapsed": 0.1})
        expect(card.get_by_test_id("suggestion-text")).to_have_text("Eight hours")
        send_event(suggestion.pk, {"type": "generation.piece", "id": suggestion.pk, "seq": 2, "text": " of light.",
                                   "tokens": 2, "elapsed": 0.2})
        expect(card.get_by_test_id("suggestion-text")).to_have_text("Eight hours of light.")
        Generation.objects.filter(pk=suggestion.pk).update(status="completed", text="Eight hours of light.", seq=2)
        send_event(suggestion.pk, state_event(Generation.objects.get(pk=suggestion.pk)))
        expect(card.get_by_role("button", name="Accept")).to_be_enabled()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "editor-suggestion-1280.png"), full_page=True)

        card.get_by_role("button", name="Accept").click()
        expect(page.locator("#editor-body")).to_have_value("The Sun Lantern charges all day.\n\nEight hours of light.")
        expect(page.get_by_test_id("save-status")).to_contain_text("Saved r2")
        expect(page.get_by_test_id("suggestion")).to_have_count(0)
        expect(page.get_by_test_id("preview")).to_contain_text("Eight hours of light.")
        expect(page.get_by_test_id("revision-2")).to_contain_text("Accepted a rewrite suggestion")
        saved = Article.objects.get(pk=article.pk)
        revision = saved.revisions.get(number=2)
        assert revision.generation_id == suggestion.pk and revision.machine_share == 1.0
        assert Generation.objects.get(pk=suggestion.pk).outcome == "accepted"
        # typing after the accept starts from the new revision
        type_at_end(page, " Really.")
        expect(page.get_by_test_id("save-status")).to_contain_text("Saved r3")

        # a suggestion still queued is discarded: cancelled, the text stays as it is
        page.evaluate("""() => { const area = document.getElementById('editor-body');
            area.focus(); area.setSelectionRange(4, 15); area.dispatchEvent(new Event('select')); }""")
        page.get_by_role("button", name="Rewrite this passage").click()
        expect(page.get_by_test_id("suggestion")).to_have_count(1)
        page.get_by_test_id("suggestion").get_by_role("button", name="Discard").click()
        expect(page.get_by_test_id("suggestion")).to_have_count(0)
        second = Generation.objects.filter(kind="suggestion").latest("created_at")
        assert (second.passage, second.outcome, second.status) == ("Sun Lantern", "discarded", "cancelled")
        assert Article.objects.get(pk=article.pk).revision == 3
    finally:
        context.close()
    assert not problems, problems


SLOW_SAVES = """
const realFetch = window.fetch;
window.fetch = async (url, options) => {
  if (String(url).endsWith("/save/")) await new Promise((resolve) => setTimeout(resolve, 2500));
  return realFetch(url, options);
};
"""


def test_typing_during_a_slow_save_is_saved_next(asgi_server, browser, make_member, workspace):
    writer = make_member("writer", workspace, username="wendy")
    article = services.draft_create(workspace=workspace, user=writer, request=services.DraftRequest(prompt="Lantern"))
    generation = article.generations.get()
    Generation.objects.filter(pk=generation.pk).update(status="completed", text=GENERATED)
    generation.refresh_from_db()
    services.article_choose(article=article, generation=generation, membership=membership_for(writer, workspace.pk))
    context, page = open_editor(browser, asgi_server, "wendy", article)
    try:
        page.add_init_script(SLOW_SAVES)
        page.reload()
        type_at_end(page, " First.")
        expect(page.get_by_test_id("save-status")).to_have_text("Saving…", timeout=5000)
        type_at_end(page, " Second.")  # while the first save is on its way
        page.locator("#editor-title").click()  # blur: asks for a save while one is in flight
        expect(page.get_by_test_id("save-status")).to_contain_text("Saved r3", timeout=15_000)
        saved = Article.objects.get(pk=article.pk)
        assert saved.body == GENERATED + " First. Second."
        assert list(saved.revisions.order_by("number").values_list("body", flat=True))[1:] == [
            GENERATED + " First.", GENERATED + " First. Second."]
    finally:
        context.close()
