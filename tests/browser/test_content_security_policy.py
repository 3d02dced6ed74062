"""Every main page works under the Content-Security-Policy, and no violation is reported.

Chromium reports each blocked script, style, image or connection as a `securitypolicyviolation`
event and a console error; both are collected, with uncaught page errors, for the whole tour.
"""

import asyncio
import re
import threading

import pytest
from playwright.sync_api import expect

from articles import services
from articles.models import Generation, generation_group
from corpora.starter import EXAMPLE_FILE

pytestmark = pytest.mark.browser

LISTENER = """
document.addEventListener("securitypolicyviolation", (e) => {
  window.reportCspViolation(`${e.effectiveDirective} blocked ${e.blockedURI || "inline"} (${e.sourceFile}:${e.lineNumber})`);
});
"""


@pytest.fixture
def problems(page):
    """What went wrong on the page: CSP violations, CSP console errors, uncaught JS errors."""
    found = []
    page.expose_function("reportCspViolation", lambda text: found.append(f"{page.url}: {text}"))
    page.add_init_script(LISTENER)
    page.on("console", lambda m: found.append(f"{page.url}: console: {m.text}")
            if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda error: found.append(f"{page.url}: page error: {error}"))
    return found


def log_in(page, base, username):
    page.goto(base + "/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("correct horse 42")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("h1")).to_be_visible()


def send_piece(generation_id: int, seq: int, text: str) -> None:
    """What a worker does for each new piece of text (from another thread: Playwright's sync
    API keeps an event loop running in this one)."""
    from channels.layers import get_channel_layer

    event = {"type": "generation.piece", "id": generation_id, "seq": seq, "text": text,
             "tokens": seq, "elapsed": 0.1}
    thread = threading.Thread(target=lambda: asyncio.run(
        get_channel_layer().group_send(generation_group(generation_id), event)))
    thread.start()
    thread.join()


def test_every_main_page_works_under_the_policy(asgi_server, page, problems, make_member, workspace, other_workspace):
    from accounts.services import membership_set

    admin = make_member("admin", workspace, username="ada")
    admin.is_staff = admin.is_superuser = True
    admin.save()
    membership_set(workspace=other_workspace, user=admin, role="admin")
    article = services.draft_create(workspace=workspace, user=admin, request=services.DraftRequest(prompt="Hi"))
    generation = article.generations.get()
    Generation.objects.filter(pk=generation.pk).update(status="running", text="Once upon", seq=2)

    response = page.goto(asgi_server + "/accounts/login/")
    policy = response.headers["content-security-policy"]
    for directive in ["default-src 'self'", "script-src 'self'", "style-src 'self'",
                      "img-src 'self' data:", "connect-src 'self'", "object-src 'none'",
                      "base-uri 'self'", "frame-ancestors 'none'", "form-action 'self'"]:
        assert directive in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    log_in(page, asgi_server, "ada")
    expect(page.get_by_role("heading", level=1)).to_have_text("Acme Marketing")

    # the workspace switcher submits itself on change (a static script, no inline handler)
    page.get_by_label("Workspace").select_option(label="Someone Else's Team")
    expect(page.get_by_role("heading", level=1)).to_have_text("Someone Else's Team")
    page.get_by_label("Workspace").select_option(label="Acme Marketing")
    expect(page.get_by_role("heading", level=1)).to_have_text("Acme Marketing")

    page.goto(asgi_server + "/write/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Write")
    page.goto(asgi_server + "/write/new/")
    expect(page.get_by_role("heading", level=1)).to_have_text("New draft")
    expect(page.get_by_role("button", name="Write it")).to_be_visible()

    # a draft streams over the WebSocket (connect-src 'self' covers same-origin ws:)
    with page.expect_websocket() as socket_info:
        page.goto(asgi_server + f"/write/articles/{article.pk}/")
    socket = socket_info.value
    socket.wait_for_event("framereceived")
    text = page.get_by_test_id(f"text-{generation.pk}")
    expect(text).to_contain_text("Once upon")
    send_piece(generation.pk, 3, " a time")
    expect(text).to_contain_text("Once upon a time")

    page.goto(asgi_server + "/prompts/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Prompts")
    page.goto(asgi_server + "/prompts/new/")
    page.locator("#id_body").fill("Write about lighthouses.")
    expect(page.locator("#preview")).to_contain_text("Write about lighthouses.")  # htmx live preview
    page.goto(asgi_server + "/styles/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Styles")

    page.goto(asgi_server + "/datasets/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Datasets")
    page.goto(asgi_server + "/datasets/new/")
    page.locator("#id_name").fill("Saltbeard voice")
    page.locator("#id_files").set_input_files(str(EXAMPLE_FILE))
    page.get_by_role("button", name="Create dataset").click()
    expect(page).to_have_url(re.compile(r"/datasets/\d+/v1/$"))
    expect(page.get_by_test_id("length-chart")).to_be_visible()

    page.goto(asgi_server + "/training/new/")  # the estimate follows the choices (htmx)
    expect(page.get_by_test_id("estimate-steps")).not_to_be_empty()
    page.get_by_label("Balanced").check()
    expect(page.get_by_test_id("estimate-reasons")).to_contain_text("cosine schedule")
    page.goto(asgi_server + "/training/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Training")

    page.goto(asgi_server + "/models/")
    expect(page.get_by_test_id("model-default")).to_be_visible()
    page.goto(asgi_server + "/accounts/profile/")
    page.get_by_label("Token name").fill("CMS sync")
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_test_id("new-token")).to_contain_text("ink_")

    page.goto(asgi_server + "/api/docs/")
    expect(page.locator(".opblock-summary-path").first).to_be_visible()

    page.goto(asgi_server + "/admin/")
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
    page.goto(asgi_server + f"/admin/accounts/user/{admin.pk}/change/")
    expect(page.locator("#id_username")).to_have_value("ada")
    page.goto(asgi_server + "/admin/axes/accessattempt/")
    expect(page.locator("#content h1")).to_be_visible()

    assert problems == []


def test_swagger_ui_renders_with_no_internet(asgi_server, page, problems, make_member, workspace):
    make_member("writer", workspace, username="wendy")
    blocked = []

    def only_this_site(route):
        if route.request.url.startswith(asgi_server):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    page.route("**/*", only_this_site)
    log_in(page, asgi_server, "wendy")
    page.goto(asgi_server + "/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Inkstone API")
    expect(page.locator(".opblock-summary-path", has_text="/api/workspaces/").first).to_be_visible()
    page.locator(".opblock-summary", has_text="/api/workspaces/").first.click()
    expect(page.get_by_role("button", name="Try it out").first).to_be_visible()
    assert blocked == []
    assert problems == []
