"""An admin plans a run on the new-run page (the estimate follows every choice), launches it, and
watches a run's page move live over the WebSocket."""

import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.db import connection
from django.db.models import F
from playwright.sync_api import expect

from tests.browser.test_library import log_in
from tests.generation.conftest import smollm2_tokenizer_dir, tiny_model_dir  # noqa: F401
from tests.support import start_asgi_server, stop
from tests.training.runs import QUOTES, add_steps, make_run, upload

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("INKSTONE_SCREENSHOTS", "")  # a folder: save the pages at 1280 and 390 px wide


@pytest.fixture
def site(transactional_db, tmp_path, tiny_model_dir):  # noqa: F811
    process, url = start_asgi_server(connection.settings_dict, tmp_path / "asgi.log",
                                     INKSTONE_DEFAULT_MODEL=str(tiny_model_dir))
    yield url
    stop(process)


def in_another_thread(work) -> None:
    with ThreadPoolExecutor(1) as pool:
        pool.submit(work).result()


def shoot(page, name: str) -> None:
    if not SHOTS:
        return
    Path(SHOTS).mkdir(parents=True, exist_ok=True)
    for width, height in ((1280, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=f"{SHOTS}/{name}-{width}.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})


def test_admin_plans_a_run_and_the_estimate_follows_the_choices(site, page, make_member, workspace):
    admin = make_member("admin", workspace, username="ada")
    upload(workspace, admin, "Sea quotes", [f"{q} Logbook entry {i}." for i in range(3) for q in QUOTES])
    log_in(page, site, "ada")
    page.locator("header nav").get_by_role("link", name="Training", exact=True).click()
    expect(page.get_by_text("No training runs yet.")).to_be_visible()
    page.get_by_role("button", name="New run").click()

    estimate = page.get_by_test_id("estimate")
    expect(estimate.get_by_test_id("estimate-steps")).not_to_be_empty()
    expect(estimate.get_by_test_id("estimate-reasons")).to_contain_text("one example per text")
    expect(page.get_by_label("Name")).to_have_value("sea-quotes-v1-lora")
    quick_steps = estimate.get_by_test_id("estimate-steps").inner_text()
    quick_lr = page.get_by_label("Learning rate").input_value()

    page.get_by_label("Thorough").check()  # the plan changes, and the settings follow it
    expect(estimate.get_by_test_id("estimate-steps")).not_to_have_text(quick_steps)
    expect(page.locator("input[name=lora_r]")).to_have_value("32")
    shoot(page, "new")

    page.get_by_label("Learning rate").fill("0.0002")
    page.get_by_label("Learning rate").press("Tab")  # change: the estimate names the edit
    expect(estimate.get_by_test_id("estimate-overrides")).to_contain_text("Learning rate = 0.0002")
    assert page.get_by_label("Learning rate").input_value() == "0.0002" != quick_lr

    page.get_by_label("Full fine-tune").check()
    expect(page.locator("input[name=lora_r]")).to_have_count(0)
    page.get_by_label("LoRA adapter").check()
    expect(page.locator("input[name=lora_r]")).to_have_count(1)
    expect(page.get_by_label("Name")).to_have_value("sea-quotes-v1-lora")

    page.get_by_label("Learning rate").fill("-1")
    page.get_by_role("button", name="Launch").click()
    expect(page.locator("#run-params").get_by_role("alert")).to_have_text("Learning rate must be > 0.")
    page.get_by_label("Learning rate").fill("0.0002")
    page.get_by_role("button", name="Launch").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("sea-quotes-v1-lora")
    expect(page.get_by_test_id("run-status")).to_have_text("Queued")


def test_the_run_page_moves_live_and_keeps_its_chart_after_a_reload(site, page, make_member, workspace):
    from training.events import publish_state, publish_step
    from training.models import TrainingRun, TrainingStep
    from training.services import run_log

    admin = make_member("admin", workspace, username="ada")
    version = upload(workspace, admin, "Sea quotes", QUOTES)
    done = make_run(workspace, admin, name="sea-v1-lora", status=TrainingRun.Status.COMPLETED, step=40, max_steps=40,
                    dataset_version=version, tokens_per_s=812.0, log="12:00:01 Starting.\n12:00:40 Finished.\n",
                    evaluation={"before": {"val_loss": 4.61, "perplexity": 100.5}, "after": {"val_loss": 3.0, "perplexity": 20.1},
                                "improved": True, "change": -0.8, "seed": 1234, "val_records": 32,
                                "samples": [{"prompt": "Tell me of the sea", "base": "The sea is a large body.",
                                             "tuned": "A calm sea never made a sailor of anyone."}]})
    add_steps(done, 40, val_every=8)
    run = make_run(workspace, admin, name="sea-v2-lora", status=TrainingRun.Status.RUNNING, step=4, max_steps=20,
                   dataset_version=version, eta_s=240, tokens_per_s=790.0, seq=5)
    add_steps(run, 4)
    log_in(page, site, "ada")
    page.goto(site + "/training/")
    shoot(page, "list")
    page.goto(site + done.get_absolute_url())
    expect(page.get_by_test_id("evaluation")).to_contain_text("20.10")
    shoot(page, "detail-finished")

    page.goto(site + run.get_absolute_url())
    expect(page.get_by_test_id("progress-steps")).to_have_text("Step 4 of 20")
    page.wait_for_timeout(500)  # the socket is open

    def train_a_few_steps():
        for step in range(5, 13):
            row = TrainingStep.objects.create(run=run, step=step, train_loss=3.0 / step ** 0.5,
                                              val_loss=2.4 if step == 12 else None)
            TrainingRun.objects.filter(pk=run.pk).update(step=step, seq=F("seq") + 1)
            run.refresh_from_db()
            publish_step(run, row)
            time.sleep(0.05)
        run_log(run.pk, "Step 12: loss 0.87")

    in_another_thread(train_a_few_steps)  # as the worker would (Playwright's loop runs in this one)
    expect(page.get_by_test_id("progress-steps")).to_have_text("Step 12 of 20")
    expect(page.get_by_test_id("run-log")).to_contain_text("Step 12: loss 0.87")
    expect(page.locator("circle.val-dot")).to_have_count(1)
    shoot(page, "detail-running")

    page.reload()  # the chart is rebuilt from the stored steps
    expect(page.get_by_test_id("progress-steps")).to_have_text("Step 12 of 20")
    expect(page.locator("circle.val-dot")).to_have_count(1)
    page.get_by_role("button", name="Cancel").click()
    expect(page.get_by_text("Stopping after the current step")).to_be_visible()
    TrainingRun.objects.filter(pk=run.pk).update(status=TrainingRun.Status.CANCELLED, seq=F("seq") + 1)
    in_another_thread(lambda: publish_state(run.pk))
    expect(page.get_by_test_id("run-status")).to_have_text("Cancelled")
    expect(page.get_by_role("button", name="Resume")).to_be_visible()
