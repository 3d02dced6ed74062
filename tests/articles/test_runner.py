"""The worker side, in-process, on the tiny random model."""

import threading
import time

import pytest

from articles import services
from articles.models import Generation
from articles.runner import run_generation
from tests.articles.conftest import published_while


@pytest.fixture
def draft(workspace, writer, tiny_model):
    def make(variants=1, max_new_tokens=24, **kwargs):
        return services.draft_create(workspace=workspace, user=writer, request=services.DraftRequest(
            prompt="Tell me about lanterns.", variants=variants, seed=11,
            params={"max_new_tokens": max_new_tokens, "temperature": 0.8}, **kwargs))
    return make


@pytest.mark.django_db(transaction=True)
def test_pieces_are_published_in_order_and_the_text_is_persisted(draft):
    generation = draft().generations.get()
    events = published_while(generation.group_name(), lambda: run_generation(generation.pk))
    generation.refresh_from_db()
    pieces = [e for e in events if e["type"] == "generation.piece"]
    assert [e["seq"] for e in pieces] == list(range(1, len(pieces) + 1))
    assert "".join(e["text"] for e in pieces) == generation.text
    assert generation.seq == len(pieces) and generation.status == "completed"
    assert generation.completion_tokens == 24 and generation.finish_reason == "length"
    assert generation.tokens_per_s > 0 and generation.time_to_first_token_s is not None
    assert events[-1]["type"] == "generation.state" and events[-1]["status"] == "completed"


@pytest.mark.django_db(transaction=True)
def test_running_a_task_twice_does_nothing_the_second_time(draft):
    generation = draft().generations.get()
    run_generation(generation.pk)
    generation.refresh_from_db()
    text, finished = generation.text, generation.finished_at
    run_generation(generation.pk)
    generation.refresh_from_db()
    assert (generation.text, generation.finished_at, generation.attempts) == (text, finished, 1)


@pytest.mark.django_db(transaction=True)
def test_one_task_writes_all_queued_variants_in_one_batch(draft):
    article = draft(variants=3)
    first = article.generations.order_by("variant").first()
    run_generation(first.pk)
    assert set(article.generations.values_list("status", flat=True)) == {"completed"}
    texts = list(article.generations.values_list("text", flat=True))
    assert len(set(texts)) == 3  # different seeds, different texts


@pytest.mark.django_db(transaction=True)
def test_cancel_stops_within_a_second_and_keeps_the_text(draft):
    generation = draft(max_new_tokens=2000).generations.get()
    worker = threading.Thread(target=run_generation, args=(generation.pk,))
    worker.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not Generation.objects.filter(pk=generation.pk, seq__gte=5).exists():
        time.sleep(0.05)
    services.generation_cancel(generation=Generation.objects.get(pk=generation.pk))
    asked = time.monotonic()
    worker.join(30)
    generation.refresh_from_db()
    assert generation.status == "cancelled" and generation.finish_reason == "cancelled"
    assert generation.finished_at is not None and time.monotonic() - asked < 5
    assert 5 <= generation.seq < 1000 and generation.text


@pytest.mark.django_db(transaction=True)
def test_a_model_that_cannot_load_fails_with_a_message(workspace, writer, settings, tmp_path):
    settings.INKSTONE_DEFAULT_MODEL = str(tmp_path / "no-such-model")
    generation = services.draft_create(workspace=workspace, user=writer, request=services.DraftRequest(prompt="Hi")).generations.get()
    run_generation(generation.pk)
    generation.refresh_from_db()
    assert generation.status == "failed"
    assert generation.error.startswith("Could not load the model “the default model”.")
    assert str(tmp_path) not in generation.error  # a writer is not shown the server's files


@pytest.mark.django_db(transaction=True)
def test_a_second_delivery_leaves_a_generation_whose_worker_still_beats_running(draft, settings):
    from datetime import timedelta

    from django.utils import timezone

    generation = draft().generations.get()
    Generation.objects.filter(pk=generation.pk).update(status="running", worker="elsewhere:1", heartbeat_at=timezone.now(),
                                                     text="Half", seq=2)
    run_generation(generation.pk)  # the same task again, on another worker
    generation.refresh_from_db()
    assert generation.status == "running" and generation.text == "Half"

    stale = timezone.now() - timedelta(seconds=settings.INKSTONE_GENERATION_STALE_SECONDS + 1)
    Generation.objects.filter(pk=generation.pk).update(heartbeat_at=stale)
    events = published_while(generation.group_name(), lambda: run_generation(generation.pk))
    generation.refresh_from_db()
    assert generation.status == "interrupted" and generation.text == "Half"
    assert [(e["status"], e["text"]) for e in events] == [("interrupted", "Half")]


@pytest.mark.django_db(transaction=True)
def test_a_retry_continues_the_stored_text_as_the_start_of_the_answer(draft, writer, tiny_model):
    from transformers import AutoTokenizer

    from generation.streaming import build_prompt_ids

    generation = draft(max_new_tokens=40).generations.get()
    Generation.objects.filter(pk=generation.pk).update(status="interrupted", text="The lantern glows", seq=3,
                                                     completion_tokens=3, params={"max_new_tokens": 40})
    generation.refresh_from_db()
    retry = services.generation_again(generation=generation, user=writer, kind="retry")
    run_generation(retry.pk)
    retry.refresh_from_db()
    assert retry.status == "completed" and retry.text
    assert retry.completion_tokens == 37  # 40 asked for, 3 written before
    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    seen = build_prompt_ids(tokenizer, messages=[{"role": "user", "content": generation.prompt}], prefill="The lantern glows")
    assert retry.prompt_tokens == len(seen)
    whole = retry.prefix + retry.text
    assert whole.startswith("The lantern glows") and not whole.startswith("The lantern glows  ")


@pytest.mark.django_db(transaction=True)
def test_continue_writing_goes_on_from_the_text_and_joins_it_as_the_model_wrote_it(draft, writer, tiny_model):
    from articles.runner import model_cache
    from generation.models import ModelSpec
    from generation.streaming import GenerationParams, build_prompt_ids, stream_generate

    generation = draft(max_new_tokens=20).generations.get()
    Generation.objects.filter(pk=generation.pk).update(status="completed", finish_reason="length", seq=3,
                                                     text="The lantern reduces the cost, the reduction")
    generation.refresh_from_db()
    continued = services.generation_continue(generation=generation, user=writer)
    run_generation(continued.pk)
    continued.refresh_from_db()
    assert continued.status == "completed" and continued.text
    chat = [{"role": "user", "content": "Tell me about lanterns."}]
    loaded = model_cache().get(ModelSpec.parse(continued.model_name))  # the worker's own copy
    # the model saw the same conversation with the earlier text as the start of its answer...
    assert continued.prompt_tokens == len(build_prompt_ids(loaded.tokenizer, messages=chat, prefill=generation.text))
    # ...and the stored text is exactly its continuation, joined to the earlier text unchanged
    alone = stream_generate(loaded, messages=chat, prefill=generation.text,
                            params=GenerationParams(**continued.params, seed=continued.seed))
    assert continued.text == alone.text()
    assert continued.prefix + continued.text == generation.text + alone.text()


@pytest.mark.django_db(transaction=True)
def test_a_draft_whose_writer_left_the_workspace_is_not_written(draft, writer):
    """The task asks the same permission decision as the page that queued it."""
    generation = draft().generations.get()
    writer.memberships.all().delete()
    run_generation(generation.pk)
    generation.refresh_from_db()
    assert generation.status == "failed" and generation.text == ""
    assert generation.error.startswith("Not written: whoever started it may no longer draft in this workspace")


@pytest.mark.django_db(transaction=True)
def test_a_nul_the_model_writes_is_left_out_so_every_database_stores_the_text(workspace, writer, tiny_model):
    """With this seed the tiny model writes a NUL byte token: PostgreSQL refused the whole text."""
    article = services.draft_create(workspace=workspace, user=writer, request=services.DraftRequest(
        prompt="Tell me about the sea.", params={"max_new_tokens": 400, "min_new_tokens": 400}, seed=7))
    generation = article.generations.get()
    run_generation(generation.pk)
    generation.refresh_from_db()
    assert generation.status == "completed", generation.error
    assert generation.text and "\x00" not in generation.text
