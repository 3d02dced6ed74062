"""The whole training journey on the real processes (`make run`'s runner: web, generation and
training workers) and Chromium: an admin starts a quick LoRA run on the starter dataset, watches
it move, reloads mid-run, sees base vs tuned when it ends, promotes the candidate, and a writer
drafts with it. The tiny random model stands in for the default one (fast on a CPU)."""

import re
import shutil
import time
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.test_library import log_in
from tests.faults.conftest import site  # noqa: F401
from tests.generation.conftest import smollm2_tokenizer_dir, tiny_model_dir  # noqa: F401

pytestmark = pytest.mark.browser


def step_of(page) -> int:
    return int(re.search(r"Step (\d+)", page.get_by_test_id("progress-steps").inner_text()).group(1))


def wait_until(predicate, timeout: float, what):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, what() if callable(what) else what
        time.sleep(0.1)


@pytest.fixture
def journey_workspace(transactional_db):
    """A workspace of its own: the run writes to adapters/<its slug>/ in the shared data folder,
    removed afterwards."""
    from accounts.services import workspace_create
    from catalog.services import workspace_adapters_dir

    workspace = workspace_create(name=f"Journey {uuid.uuid4().hex[:8]}", starter_content=False)
    yield workspace
    shutil.rmtree(workspace_adapters_dir(workspace), ignore_errors=True)


def test_admin_trains_watches_promotes_and_a_writer_drafts_with_it(
        site, browser, make_member, journey_workspace, tiny_model_dir):  # noqa: F811
    from articles.models import Article
    from catalog.models import ModelVersion
    from corpora.starter import seed_example_dataset
    from training.models import TrainingRun

    workspace = journey_workspace
    admin = make_member("admin", workspace, username="ada")
    make_member("writer", workspace, username="wendy")
    starter = seed_example_dataset(workspace=workspace, created_by=admin).versions.get()
    url = site("web", "generation", "training", INKSTONE_DEFAULT_MODEL=str(tiny_model_dir)).url

    admin_page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    admin_page.set_default_timeout(30_000)
    log_in(admin_page, url, "ada")
    admin_page.goto(url + "/training/new/")
    # the only dataset is chosen already (choosing it again would refill the settings meanwhile)
    expect(admin_page.get_by_label("Dataset version")).to_have_value(str(starter.pk))
    expect(admin_page.get_by_label("Quick")).to_be_checked()
    expect(admin_page.get_by_test_id("estimate").get_by_test_id("estimate-steps")).not_to_be_empty()
    admin_page.get_by_label("Max steps").fill("60")  # long enough to watch on the tiny model
    admin_page.get_by_label("Max steps").press("Tab")
    admin_page.get_by_role("button", name="Launch").click()
    expect(admin_page.get_by_test_id("run-status")).to_have_text(re.compile("Queued|Training"))
    run = TrainingRun.objects.get()

    # the bar and the chart move as steps finish
    wait_until(lambda: step_of(admin_page) >= 10, 120,
               lambda: f"the run did not start: {TrainingRun.objects.values('status', 'step', 'error', 'log').get()}")
    first = step_of(admin_page)
    wait_until(lambda: step_of(admin_page) > first, 60, "the progress did not move")
    expect(admin_page.get_by_test_id("train-line")).to_be_visible()

    admin_page.reload()  # mid-run: the chart is rebuilt from the stored steps
    points = admin_page.get_by_test_id("train-line").get_attribute("points").split()
    assert len(points) >= first, (len(points), first)

    expect(admin_page.get_by_test_id("run-status")).to_have_text("Finished", timeout=240_000)
    run.refresh_from_db()
    assert list(run.steps.values_list("step", flat=True)) == list(range(1, run.max_steps + 1))
    evaluation = admin_page.get_by_test_id("evaluation")
    expect(evaluation.get_by_test_id("evaluation-metrics")).to_contain_text("Validation perplexity")
    sample = evaluation.get_by_test_id("sample").first
    expect(sample).to_contain_text(run.evaluation["samples"][0]["prompt"])
    for text in (run.evaluation["samples"][0]["base"], run.evaluation["samples"][0]["tuned"]):
        expect(sample).to_contain_text(" ".join(text.split()[:3]))  # base and tuned side by side

    admin_page.get_by_test_id("candidate-link").click()
    expect(admin_page.get_by_test_id("status")).to_have_text("Candidate")
    reason = admin_page.get_by_label(re.compile("^Reason"))
    if reason.get_attribute("required") is not None:  # the tiny model may not improve
        reason.fill("A test voice.")
    admin_page.get_by_role("button", name="Promote").click()
    expect(admin_page.get_by_test_id("status")).to_have_text("Promoted")
    version = ModelVersion.objects.get(name=run.name)
    assert version.status == "promoted" and version.promoted_by.username == "ada"

    writer_page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    writer_page.set_default_timeout(30_000)
    log_in(writer_page, url, "wendy")
    writer_page.goto(url + "/write/new/")
    writer_page.get_by_label("Free prompt").check()
    writer_page.get_by_label("Prompt", exact=True).fill("Describe a waterproof lantern.")
    writer_page.get_by_label("Model").select_option(run.name)
    writer_page.get_by_text("Advanced").click()
    writer_page.get_by_label("Length limit (tokens)").fill("24")
    writer_page.get_by_role("button", name="Write it").click()
    generation = Article.objects.get().generations.get()
    expect(writer_page.get_by_test_id(f"status-{generation.pk}")).to_have_text("Done", timeout=120_000)
    generation.refresh_from_db()
    assert generation.model_version == version and generation.text
