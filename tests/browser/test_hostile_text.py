"""Hostile text (a <script> element, an onerror= attribute, a javascript: link) stays inert on
every signed-in page that shows it, whether a model generated it (saved or still streaming), a
person typed it (article text, title, comment) or it came in with a dataset. The public page,
feed, export and print view are covered in test_publishing.py.

On each page: no dialog opens, the only scripts are the site's own under /static/, no element
has an on* attribute, no link goes to javascript:, and the hostile characters are still there
as visible text (escaped, not dropped)."""

import json
import re
import xml.etree.ElementTree as ET

import pytest
from playwright.sync_api import expect

from accounts.permissions import membership_for
from articles import services
from articles.models import Generation
from articles.revisions import article_save
from articles.workflow import article_transition
from tests.browser.test_content_security_policy import send_piece

pytestmark = pytest.mark.browser

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
LINK = "[click](javascript:alert(1))"
HOSTILE = f"Before the tricks.\n\n{SCRIPT}\n\n{IMG}\n\n{LINK}\n\nAfter the tricks."
TYPED = f"Typed by hand.\n\n{SCRIPT}\n\n{IMG}\n\n{LINK}\n\nTyped to the end."
TITLE = f"{IMG} Tricky title"
COMMENT = f"Look here {SCRIPT} and {IMG} and javascript:alert(1)"

FIND_HOLES = """(root) => {
  const all = [root, ...root.querySelectorAll('*')];
  return {
    handlers: all.filter(e => [...e.attributes].some(a => a.name.toLowerCase().startsWith('on')))
                 .map(e => e.outerHTML.slice(0, 120)),
    jsLinks: all.filter(e => ['href', 'src', 'action', 'formaction', 'xlink:href'].some(
                 n => (e.getAttribute(n) || '').replace(/\\s/g, '').toLowerCase().startsWith('javascript:')))
                 .map(e => e.outerHTML.slice(0, 120)),
    scripts: [...document.scripts].map(s => s.getAttribute('src') || 'inline: ' + s.textContent.slice(0, 80)),
    mainScripts: [...root.querySelectorAll('script')].filter(s => !(s.getAttribute('src') || '').startsWith('/static/'))
                 .map(s => s.outerHTML.slice(0, 120)),
  };
}"""


def check_inert(page, dialogs, where, *visible):
    """The page (its <main>) holds nothing that can run; `visible` texts show as text."""
    main = page.locator("main")
    for text in visible:
        expect(main).to_contain_text(text)
    page.wait_for_timeout(100)  # a late onerror would fire by now
    holes = main.evaluate(FIND_HOLES)
    assert holes["handlers"] == [], f"{where}: elements with on* attributes: {holes['handlers']}"
    assert holes["jsLinks"] == [], f"{where}: javascript: addresses: {holes['jsLinks']}"
    assert holes["mainScripts"] == [], f"{where}: script elements in the main content: {holes['mainScripts']}"
    assert all(src.startswith("/static/") for src in holes["scripts"]), f"{where}: foreign scripts {holes['scripts']}"
    assert dialogs == [], f"{where}: a dialog opened: {dialogs}"


def log_in(page, base, username):
    page.goto(base + "/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("correct horse 42")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("h1")).to_be_visible()


def stream(generation_id, text):
    """Pieces as a worker sends them, each hostile construct whole in one piece."""
    for seq, piece in enumerate(re.split(r"(?<=\n\n)", text), start=1):
        send_piece(generation_id, seq, piece)


def test_hostile_text_is_inert_wherever_it_shows(asgi_server, page, make_member, workspace):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from corpora.services import dataset_create_from_upload

    editor = make_member("editor", workspace, username="edna")
    admin = make_member("admin", workspace, username="ada")
    member = membership_for(editor, workspace.pk)
    # generated: two variants; variant 1 was run twice (an earlier run in its history), variant 2 streams
    article = services.draft_create(workspace=workspace, user=editor,
                                    request=services.DraftRequest(prompt=f"Write {SCRIPT}", variants=2))
    first, streaming = article.generations.order_by("variant")
    Generation.objects.filter(pk=first.pk).update(status="completed", text="Earlier run. " + HOSTILE,
                                                  model_name=IMG, params={"temperature": 0.7, "note": IMG})
    latest = Generation.objects.create(article=article, workspace=workspace, variant=1, kind="regenerate",
                                       model_name=IMG, prompt=f"Write {SCRIPT}", seed=2, created_by=editor,
                                       status="completed", text=HOSTILE)
    Generation.objects.filter(pk=streaming.pk).update(status="running", text="", seq=0)
    services.article_choose(article=article, generation=latest, membership=member)
    suggestion = Generation.objects.create(article=article, workspace=workspace, kind="suggestion", variant=1,
                                           model_name="default", prompt="Rewrite", passage=f"Before {SCRIPT}",
                                           seed=3, created_by=editor, status="running", text="")
    # imported: a dataset whose records carry the hostile text
    dataset = dataset_create_from_upload(workspace=workspace, user=admin, name=f"Tricks {IMG}", files=[
        SimpleUploadedFile("tricks.jsonl", "".join(json.dumps(row) + "\n" for row in (
            {"prompt": f"Say {SCRIPT}", "completion": f"{IMG} {LINK}"},
            {"prompt": "Plain question?", "completion": "A plain answer."})).encode())])
    dataset = dataset.dataset  # the upload gives its first version

    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    log_in(page, asgi_server, "edna")

    # --- generated ---------------------------------------------------------------------------
    with page.expect_websocket() as socket_info:
        page.goto(f"{asgi_server}/write/articles/{article.pk}/")
    socket_info.value.wait_for_event("framereceived")
    for card in (latest.pk, first.pk):
        expect(page.get_by_test_id(f"text-{card}")).to_contain_text(SCRIPT)
    page.get_by_test_id("earlier-runs-1").get_by_text("Earlier runs").click()
    expect(page.get_by_test_id(f"text-{first.pk}")).to_be_visible()
    page.locator(f"#gen-{latest.pk} details.provenance summary").click()
    check_inert(page, dialogs, "article page, variant cards", SCRIPT, IMG, "click", "Earlier run.")
    expect(page.get_by_test_id("article-body")).to_contain_text(IMG)
    expect(page.get_by_test_id("provenance")).to_contain_text(IMG)  # the model's name, as text
    stream(streaming.pk, "Streaming now. " + HOSTILE)  # while it streams: re-rendered as it grows
    streamed = page.get_by_test_id(f"text-{streaming.pk}")
    expect(streamed).to_contain_text("After the tricks.")
    expect(streamed).to_contain_text(SCRIPT)
    check_inert(page, dialogs, "article page, streaming card", "Streaming now.")

    # --- the editor: generated text in the preview, then typed text, a title and a comment ----
    page.goto(f"{asgi_server}/write/articles/{article.pk}/edit/")
    preview = page.get_by_test_id("preview")
    expect(preview).to_contain_text(IMG)
    expect(page.get_by_test_id("suggestion")).to_contain_text(f"Before {SCRIPT}")
    expect(page.locator("[data-suggestion][data-live='1']")).to_have_count(1)  # its socket is open
    stream(suggestion.pk, "Suggested " + HOSTILE)
    expect(page.get_by_test_id("suggestion-text")).to_contain_text("After the tricks.")
    expect(page.get_by_test_id("suggestion-text")).to_contain_text(IMG)
    check_inert(page, dialogs, "editor with generated text", SCRIPT, "click", "Suggested Before the tricks.")

    page.locator("#editor-title").fill(TITLE)
    body = page.locator("#editor-body")
    body.fill("")
    body.press_sequentially(TYPED)  # a person types it, key by key
    expect(preview).to_contain_text("Typed to the end.")
    expect(preview).to_contain_text(SCRIPT)
    expect(page.get_by_test_id("save-status")).to_contain_text("Saved r3")
    check_inert(page, dialogs, "editor live preview of typed text", IMG, "click")
    page.locator("#comment-quote").fill(SCRIPT)
    page.locator("#comment-body").fill(COMMENT)
    page.get_by_role("button", name="Add comment").click()
    expect(page.get_by_test_id("comment")).to_contain_text(COMMENT)
    check_inert(page, dialogs, "editor with a comment", COMMENT)
    page.reload()
    expect(page.locator("#editor-body")).to_have_value(TYPED)
    expect(page.locator("#editor-title")).to_have_value(TITLE)
    expect(page.get_by_test_id("comment")).to_contain_text(COMMENT)
    check_inert(page, dialogs, "editor after a reload", "Typed by hand.", SCRIPT, IMG)

    # --- revisions and their diffs ------------------------------------------------------------
    article.refresh_from_db()
    assert (article.title, article.body) == (TITLE, TYPED)
    for a, b in (("chosen", "1"), ("chosen", "3"), ("1", "3")):
        page.goto(f"{asgi_server}/write/articles/{article.pk}/revisions/?a={a}&b={b}")
        expect(page.get_by_test_id("diff")).to_be_visible()
        check_inert(page, dialogs, f"revisions {a}→{b}", SCRIPT, IMG)

    # --- an edit conflict: both texts and their diff come back from a refused autosave --------
    theirs = TYPED + f"\n\nTheirs: {SCRIPT} {IMG}"
    page.goto(f"{asgi_server}/write/articles/{article.pk}/edit/")
    expect(page.get_by_test_id("save-status")).to_have_text("Saved r3")
    article_save(article=article, membership=membership_for(admin, workspace.pk), title=TITLE, body=theirs,
                 base_revision=3, note=f"Note {IMG}")  # someone else saves meanwhile
    page.locator("#editor-body").press("Control+End")
    page.locator("#editor-body").press_sequentially(f" Mine: {SCRIPT}")
    expect(page.get_by_test_id("conflict")).to_be_visible()
    expect(page.get_by_test_id("conflict-theirs")).to_contain_text(f"Theirs: {SCRIPT} {IMG}")
    expect(page.get_by_test_id("conflict-yours")).to_contain_text(f"Mine: {SCRIPT}")
    check_inert(page, dialogs, "edit conflict", f"Mine: {SCRIPT}")
    page.get_by_role("button", name="Take theirs").click()
    expect(page.locator("#editor-body")).to_have_value(theirs)
    page.goto(f"{asgi_server}/write/articles/{article.pk}/revisions/?a=3&b=4")
    check_inert(page, dialogs, "revisions 3→4 and the revision list", f"Theirs: {SCRIPT}", f"Note {IMG}")

    # --- titles everywhere titles show; the comment on the timeline ---------------------------
    article_transition(article=article, action="submit", membership=member, comment=COMMENT)
    for path in ("/write/", "/write/mine/", "/review/"):
        page.goto(asgi_server + path)
        expect(page.get_by_role("link", name=TITLE)).to_be_visible()
        check_inert(page, dialogs, path, TITLE)
    page.get_by_role("link", name=TITLE).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    assert page.title().startswith(TITLE)
    expect(page.get_by_test_id("timeline")).to_contain_text(COMMENT)
    check_inert(page, dialogs, "article page with typed text", TITLE, "Typed by hand.", SCRIPT, IMG, "click")

    article_transition(article=article, action="approve", membership=membership_for(admin, workspace.pk))
    page.goto(f"{asgi_server}/datasets/add-articles/")
    expect(page.get_by_label(TITLE)).to_be_visible()
    check_inert(page, dialogs, "add articles to a dataset", TITLE)
    article_transition(article=article, action="publish", membership=membership_for(admin, workspace.pk))
    article.refresh_from_db()
    page.goto(f"{asgi_server}/p/{workspace.slug}/{article.slug}/")
    assert page.title().startswith(TITLE)
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(page.get_by_test_id("public-body")).to_contain_text(SCRIPT)
    check_inert(page, dialogs, "public page", TITLE, IMG)
    feed = page.request.get(f"{asgi_server}/p/{workspace.slug}/feed/").text()
    entry_title = ET.fromstring(feed).find(".//{http://www.w3.org/2005/Atom}entry/{http://www.w3.org/2005/Atom}title")
    assert entry_title.text == TITLE  # escaped in the XML, the title itself to a reader
    assert "<img" not in feed

    # --- imported from a dataset --------------------------------------------------------------
    page.goto(f"{asgi_server}/datasets/{dataset.pk}/v1/")
    expect(page.get_by_test_id("record-count")).to_have_text("2")
    check_inert(page, dialogs, "dataset version", f"Say {SCRIPT}", IMG, LINK, "Tricks " + IMG)
    split = page.get_by_label("Show split")  # the records list, swapped in by htmx
    split.select_option(label="Train")
    expect(page.locator("#records")).to_contain_text("No records in this split")
    page.wait_for_timeout(200)  # htmx settles the swapped-in select
    split.select_option(label="All")
    expect(page.locator("#records")).to_contain_text(f"Say {SCRIPT}")
    check_inert(page, dialogs, "dataset records (htmx)", f"Say {SCRIPT}", IMG, LINK)
    page.goto(f"{asgi_server}/datasets/")
    check_inert(page, dialogs, "dataset list", "Tricks " + IMG)

    # an article added to a dataset: its text becomes a record, its title the record's source
    page.goto(f"{asgi_server}/datasets/add-articles/")
    page.get_by_label(TITLE).check()
    page.get_by_label("Add them to").select_option(str(dataset.pk))
    page.get_by_role("button", name="Add to the dataset as a new version").click()
    expect(page).to_have_url(re.compile(rf"/datasets/{dataset.pk}/v2/$"))
    expect(page.get_by_test_id("from-articles").get_by_role("link", name=TITLE)).to_be_visible()
    check_inert(page, dialogs, "dataset version from articles", TITLE, "Typed by hand.", SCRIPT, IMG)

    # a CSV whose column names and cells are hostile: the column picker, then the new dataset
    page.context.clear_cookies()
    log_in(page, asgi_server, "ada")  # making datasets is an admin's
    page.goto(f"{asgi_server}/datasets/new/")
    page.locator("#id_name").fill("From a CSV")
    page.locator("#id_files").set_input_files({"name": "tricks.csv", "mimeType": "text/csv", "buffer": (
        f'prompt,"{IMG}"\n"Say {SCRIPT}","{IMG} {LINK}"\n').encode()})
    columns = page.locator("#csv-columns")
    expect(columns).to_contain_text(f"Header: prompt · {IMG}")
    page.wait_for_timeout(200)  # htmx settles the swapped-in selects
    columns.get_by_label("Completion column").select_option(IMG)
    check_inert(page, dialogs, "CSV column picker", IMG)
    page.get_by_role("button", name="Create dataset").click()
    expect(page).to_have_url(re.compile(r"/datasets/\d+/v1/$"))
    check_inert(page, dialogs, "dataset from a CSV", f"Say {SCRIPT}", IMG, LINK)
    assert dialogs == []
