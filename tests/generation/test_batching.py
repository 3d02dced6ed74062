"""Concurrent requests share one batch and each caller gets its own stream and result."""

import threading

import pytest

from generation.batching import BatchingEngine, engine_for
from generation.models import ModelSpec, load_model
from generation.streaming import GenerationParams, generate, stream_generate


@pytest.fixture(scope="module")
def tiny(tiny_model_dir):
    return load_model(ModelSpec(str(tiny_model_dir), dtype="float32", device="cpu"))


def _submit_concurrently(engine, jobs):
    streams = [None] * len(jobs)

    def go(i, prompt, params):
        streams[i] = engine.submit(prompt=prompt, params=params)

    threads = [threading.Thread(target=go, args=(i, *job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return streams


def test_two_concurrent_requests_batch_and_match_solo_runs(tiny):
    jobs = [
        ("Once upon a time", GenerationParams(max_new_tokens=16, seed=1)),
        (
            "The weather today is quite a bit different",
            GenerationParams(max_new_tokens=10, seed=2, temperature=0.9),
        ),
    ]
    solo = [generate(tiny, prompt=p, params=params) for p, params in jobs]
    with BatchingEngine(tiny, gather_s=0.2) as engine:
        streams = _submit_concurrently(engine, jobs)
        pieces = [list(s) for s in streams]
        assert engine.batches_run == 1 and engine.largest_batch == 2
    for got, want, streamed in zip(streams, solo, pieces, strict=True):
        assert got.result.text == want.text == "".join(streamed)
        assert got.result.token_ids == want.token_ids


def test_a_prefilled_request_continues_its_answer_in_a_batch_as_alone(tiny):
    chat = [{"role": "user", "content": "Tell me about the sea."}]
    params = GenerationParams(max_new_tokens=10, min_new_tokens=10, seed=3)
    alone = stream_generate(tiny, messages=chat, prefill="The sea is", params=params)
    with BatchingEngine(tiny, gather_s=0.2) as engine:
        prefilled = engine.submit(messages=chat, prefill="The sea is", params=params)
        other = engine.submit(prompt="Once upon a time", params=params)
        assert prefilled.text() == alone.text() and other.text()
        assert prefilled.row.prompt_ids == alone.row.prompt_ids
        assert engine.largest_batch == 2


def test_cancelling_one_row_does_not_stop_the_others(tiny):
    params = GenerationParams(max_new_tokens=30, min_new_tokens=30, seed=5)
    stop_a = threading.Event()
    stop_a.set()
    with BatchingEngine(tiny, gather_s=0.2) as engine:
        a = engine.submit(prompt="first", params=params, should_stop=stop_a)
        b = engine.submit(prompt="second one", params=params)
        ra, rb = a.result, b.result
        assert engine.batches_run == 1
    assert ra.finish_reason == "cancelled" and ra.usage.completion_tokens <= 1
    assert rb.finish_reason == "length" and rb.usage.completion_tokens == 30


def test_engine_for_is_shared_per_model(tiny):
    assert engine_for(tiny) is engine_for(tiny)
    engine_for(tiny).close()


@pytest.mark.real_model
def test_real_model_batch_of_two(default_model_dir):
    loaded = load_model(ModelSpec(str(default_model_dir)))
    jobs = [
        ("Name a color.", GenerationParams(max_new_tokens=12, seed=1)),
        ("Name an animal.", GenerationParams(max_new_tokens=12, seed=2)),
    ]
    with BatchingEngine(loaded, gather_s=0.2) as engine:
        streams = [
            engine.submit(messages=[{"role": "user", "content": p}], params=q) for p, q in jobs
        ]
        results = [s.result for s in streams]
        assert engine.largest_batch == 2
    for r in results:
        assert r.text.strip() and r.usage.completion_tokens <= 12
