"""An admin adds a fine-tuned adapter on the Models page; writers can then pick it."""

import pytest
from django.db import connection
from playwright.sync_api import expect

from tests.browser.test_library import log_in
from tests.generation.conftest import smollm2_tokenizer_dir, tiny_lora_dir, tiny_model_dir  # noqa: F401
from tests.support import start_asgi_server, stop

pytestmark = pytest.mark.browser


@pytest.fixture
def asgi_server(transactional_db, tmp_path, tmp_path_factory):
    """The site, allowing models from pytest's temporary folders (where the tiny adapter is)."""
    roots = str(tmp_path_factory.getbasetemp().resolve())
    process, url = start_asgi_server(connection.settings_dict, tmp_path / "asgi.log", INKSTONE_MODEL_ROOTS=roots)
    yield url
    stop(process)


def test_admin_adds_an_adapter_and_it_is_offered_for_drafts(asgi_server, page, make_member, workspace, tiny_lora_dir):  # noqa: F811
    make_member("admin", workspace, username="ada")
    log_in(page, asgi_server, "ada")
    page.locator("header nav").get_by_role("link", name="Models", exact=True).click()
    expect(page.get_by_test_id("model-default")).to_contain_text("SmolLM2-135M-Instruct (bundled)")
    page.get_by_role("button", name="Add a model").click()
    page.get_by_label("Name").fill("saltbeard-lora")
    page.get_by_label("Path or hub id").fill(str(tiny_lora_dir / "typo"))
    page.get_by_role("button", name="Add").click()
    expect(page.get_by_role("alert")).to_contain_text("model not found")
    page.get_by_label("Path or hub id").fill(str(tiny_lora_dir))
    page.get_by_role("button", name="Add").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("saltbeard-lora")
    expect(page.get_by_test_id("metrics")).to_contain_text("val_loss")
    page.get_by_role("button", name="Write with it").click()
    expect(page.get_by_label("Model")).to_have_value("saltbeard-lora")


def test_admin_promotes_candidates_with_a_reason_when_they_did_not_improve(asgi_server, page, make_member, workspace, tmp_path, tiny_lora_dir):  # noqa: F811
    import shutil

    from catalog.services import model_add_candidate

    admin = make_member("admin", workspace, username="ada")
    worse = {"before": {"perplexity": 20.0}, "after": {"perplexity": 25.0}, "improved": False, "change": 0.25}
    better = {"before": {"perplexity": 100.5}, "after": {"perplexity": 20.1}, "improved": True, "change": -0.8}
    for name, evaluation in (("worse-run", worse), ("better-run", better)):
        shutil.copytree(tiny_lora_dir, tmp_path / name)
        model_add_candidate(workspace=workspace, user=admin, name=name, output_dir=tmp_path / name, evaluation=evaluation)
    log_in(page, asgi_server, "ada")
    page.locator("header nav").get_by_role("link", name="Models", exact=True).click()
    expect(page.get_by_test_id("status-worse-run")).to_have_text("Candidate")
    page.get_by_role("button", name="Compare fine-tunes").click()
    expect(page.get_by_test_id("compare-worse-run")).to_contain_text("+25.0%")
    # whether it is a candidate shows without scrolling the wide table sideways
    expect(page.get_by_test_id("compare-worse-run").locator(".pill")).to_have_text("Candidate")
    expect(page.get_by_test_id("compare-worse-run").locator(".pill")).to_be_in_viewport()
    page.get_by_role("link", name="worse-run").click()

    expect(page.get_by_test_id("improved")).to_have_text("Did not improve")
    page.get_by_label("Reason (required)").fill("   ")  # passes the browser's check, not the server's
    page.get_by_role("button", name="Promote").click()
    expect(page.get_by_role("alert")).to_contain_text("The validation perplexity went from 20.00 to 25.00")
    expect(page.get_by_test_id("status")).to_have_text("Candidate")
    page.get_by_label("Reason (required)").fill("Sounds more like our captain.")
    page.get_by_role("button", name="Promote").click()
    expect(page.get_by_test_id("status")).to_have_text("Promoted")
    expect(page.get_by_test_id("promotion")).to_contain_text("Sounds more like our captain.")

    page.goto(asgi_server + "/models/?status=candidate")
    page.get_by_role("link", name="better-run").click()
    page.get_by_role("button", name="Promote").click()  # it improved: no reason needed
    expect(page.get_by_test_id("status")).to_have_text("Promoted")
    page.get_by_role("button", name="Write with it").click()
    expect(page.get_by_label("Model")).to_have_value("better-run")
