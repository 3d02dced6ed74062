"""Streaming generation on the tiny random model (fast) and the real default model."""

import threading

import pytest

from generation.errors import GenerationError
from generation.models import ModelSpec, load_model
from generation.streaming import (
    GenerationParams,
    IncrementalDecoder,
    StopMatcher,
    build_prompt_ids,
    generate,
    stream_generate,
)

CHAT = [{"role": "user", "content": "Tell me about the sea."}]


@pytest.fixture(scope="module")
def tiny(tiny_model_dir):
    return load_model(ModelSpec(str(tiny_model_dir), dtype="float32", device="cpu"))


def test_params_validation():
    assert GenerationParams().temperature == 0.7
    assert GenerationParams(temperature=0).greedy
    assert GenerationParams(stop="###").stop == ("###",)
    for bad in (
        {"max_new_tokens": 0},
        {"temperature": -0.1},
        {"top_p": 0},
        {"top_p": 1.5},
        {"top_k": -1},
        {"repetition_penalty": 0},
        {"seed": -3},
        {"stop": ("",)},
        {"min_new_tokens": 10, "max_new_tokens": 5},
    ):
        with pytest.raises(ValueError):
            GenerationParams(**bad)


def test_needs_exactly_one_of_messages_or_prompt(tiny):
    with pytest.raises(ValueError):
        stream_generate(tiny, params=GenerationParams(max_new_tokens=2))
    with pytest.raises(ValueError):
        stream_generate(tiny, prompt="a", messages=CHAT)


def test_streamed_pieces_concatenate_to_non_streamed_decode(tiny):
    params = GenerationParams(max_new_tokens=24, seed=7, min_new_tokens=24)
    stream = stream_generate(tiny, messages=CHAT, system="Be brief.", params=params)
    pieces = list(stream)
    result = stream.result
    plain = generate(tiny, messages=CHAT, system="Be brief.", params=params)
    assert "".join(pieces) == result.text == plain.text
    assert result.token_ids == plain.token_ids
    decoded = tiny.tokenizer.decode(plain.token_ids, skip_special_tokens=True)
    assert result.text == decoded
    assert result.finish_reason == "length"
    usage = result.usage
    assert usage.completion_tokens == 24 and usage.prompt_tokens > 5
    assert usage.time_to_first_token_s is not None and usage.tokens_per_s > 0


def test_same_seed_same_text_and_greedy_ignores_seed(tiny):
    def run(**kw):
        return generate(
            tiny, prompt="Once upon a time", params=GenerationParams(max_new_tokens=12, **kw)
        )

    assert run(seed=1).text == run(seed=1).text
    assert run(seed=1).token_ids != run(seed=2).token_ids
    assert run(temperature=0, seed=1).text == run(temperature=0, seed=2).text


def test_chinese_and_emoji_never_arrive_broken(tiny):
    text = "你好，世界！我们今天写一篇文章。😀👍🏽 東京とソウル"
    ids = tiny.tokenizer(text, add_special_tokens=False)["input_ids"]
    singles = [tiny.tokenizer.decode([i]) for i in ids]
    assert any("\ufffd" in s for s in singles), "test needs tokens that split characters"
    decoder = IncrementalDecoder(tiny.tokenizer)
    pieces = [decoder.push(i) for i in ids] + [decoder.flush()]
    assert all("\ufffd" not in p for p in pieces)
    assert "".join(pieces) == text


def test_a_prefill_is_the_start_of_the_answer_after_the_generation_prompt(tiny):
    tokenizer = tiny.tokenizer
    chat = [{"role": "system", "content": "Be brief."}, *CHAT]
    template = tokenizer.apply_chat_template(chat, tokenize=False, add_generation_prompt=True)
    prefill = "The sea is wide and"
    expected = tokenizer(template + prefill, add_special_tokens=False)["input_ids"]
    assert build_prompt_ids(tokenizer, messages=CHAT, system="Be brief.", prefill=prefill) == expected

    params = GenerationParams(max_new_tokens=16, min_new_tokens=16, seed=4)
    stream = stream_generate(tiny, messages=CHAT, system="Be brief.", prefill=prefill, params=params)
    text = stream.text()
    assert stream.row.prompt_ids == expected  # no new user turn: template, then the answer so far
    # what the model saw: the same as a raw prompt of template + prefill
    assert text == stream_generate(tiny, prompt=template + prefill, params=params).text()


@pytest.mark.parametrize("prefill", ["The sea is wide and", "The sea is wide and ", "The sea is wi", "海は広い。", "Line one.\n"])
def test_the_continuation_joins_the_prefill_without_a_lost_or_doubled_space(tiny, prefill):
    params = GenerationParams(max_new_tokens=12, min_new_tokens=12, seed=11)
    stream = stream_generate(tiny, messages=CHAT, prefill=prefill, params=params)
    pieces = list(stream)
    whole = tiny.tokenizer.decode(stream.row.prompt_ids + stream.result.token_ids, skip_special_tokens=True,
                                  clean_up_tokenization_spaces=False)
    assert whole.endswith(prefill + "".join(pieces))
    assert "".join(pieces) == stream.result.text


def test_tokens_taken_are_the_tokens_of_the_text_given_out_so_far(tiny):
    stream = stream_generate(tiny, messages=CHAT, params=GenerationParams(max_new_tokens=30, min_new_tokens=30, seed=2))
    given, marks = "", []
    for piece in stream:
        given += piece
        marks.append((stream.tokens_taken, given))
    ids = stream.result.token_ids
    for taken, text in marks:
        assert tiny.tokenizer.decode(ids[:taken], skip_special_tokens=True, clean_up_tokenization_spaces=False) == text


def test_incremental_decoder_with_context_gives_only_the_new_text(tiny):
    tokenizer = tiny.tokenizer
    ids = tokenizer("Hello there, world 😀 again", add_special_tokens=False)["input_ids"]
    decoder = IncrementalDecoder(tokenizer, context=ids[:3])
    pieces = [decoder.push(i) for i in ids[3:]] + [decoder.flush()]
    assert tokenizer.decode(ids[:3]) + "".join(pieces) == "Hello there, world 😀 again"


def test_stop_matcher_holds_back_possible_stop_prefix():
    m = StopMatcher(["\n\nUser:"])
    assert m.feed("Hello\n") == "Hello"
    assert m.feed("\nUs") == ""
    assert m.feed("er: hi") == ""
    assert m.hit
    m = StopMatcher(["END"])
    assert m.feed("the EN") == "the "
    assert m.feed("tire") == "ENtire"
    assert m.flush() == "" and not m.hit


def test_stop_sequence_ends_generation_and_is_not_included(tiny):
    params = GenerationParams(max_new_tokens=40, seed=3, min_new_tokens=40)
    full = generate(tiny, prompt="Once upon a time", params=params).text
    stop = full[len(full) // 2 : len(full) // 2 + 3]
    assert stop.strip(), "need a visible stop string"
    expected = full[: full.find(stop)]
    stopped = stream_generate(
        tiny,
        prompt="Once upon a time",
        params=GenerationParams(**{**params.__dict__, "stop": (stop,)}),
    )
    text = "".join(stopped)
    assert text == expected == stopped.result.text
    assert stopped.result.finish_reason == "stop"
    assert stopped.result.usage.completion_tokens < 40


def test_cancel_takes_effect_within_one_token(tiny):
    calls = 0

    def should_stop():  # polled once per generated token
        nonlocal calls
        calls += 1
        return calls >= 3

    params = GenerationParams(max_new_tokens=50, min_new_tokens=50, seed=1)
    result = stream_generate(tiny, prompt="Hello", params=params, should_stop=should_stop).result
    assert result.finish_reason == "cancelled"
    assert result.usage.completion_tokens <= 3 + 1


def test_cancel_with_event_and_close(tiny):
    event = threading.Event()
    params = GenerationParams(max_new_tokens=200, min_new_tokens=200, seed=1)
    stream = stream_generate(tiny, prompt="Hello", params=params, should_stop=event)
    next(iter(stream))
    event.set()
    assert stream.result.finish_reason == "cancelled"
    assert stream.result.usage.completion_tokens < 200
    with stream_generate(tiny, prompt="Hello", params=params) as abandoned:
        next(abandoned)
    assert abandoned.result.finish_reason == "cancelled"


def test_errors_in_the_generation_thread_reach_the_caller(tiny):
    def boom():
        raise RuntimeError("polling failed")

    stream = stream_generate(
        tiny, prompt="Hello", params=GenerationParams(max_new_tokens=5), should_stop=boom
    )
    with pytest.raises(GenerationError, match="polling failed"):
        list(stream)


@pytest.mark.real_model
def test_real_model_streams_english(default_model_dir):
    loaded = load_model(ModelSpec(str(default_model_dir)))
    params = GenerationParams(max_new_tokens=20, seed=0)
    stream = stream_generate(
        loaded, messages=[{"role": "user", "content": "Name a fruit."}], params=params
    )
    pieces = list(stream)
    result = stream.result
    assert "".join(pieces) == result.text
    assert result.usage.completion_tokens <= 20
    assert sum(c.isascii() and c.isalpha() for c in result.text) > 5


def test_params_name_the_parameter_and_its_range():
    with pytest.raises(ValueError, match=r"max_new_tokens must be between 1 and 8192, not 1180591620717411303424"):
        GenerationParams(max_new_tokens=2**70)
    with pytest.raises(ValueError, match="temperature must be a finite number"):
        GenerationParams(temperature=float("nan"))
    with pytest.raises(ValueError, match="seed must be between 0 and 4294967295"):
        GenerationParams(seed=2**63)
    with pytest.raises(ValueError, match="top_k must be a whole number"):
        GenerationParams(top_k=2.5)
    with pytest.raises(ValueError, match="stop: at most 8 sequences"):
        GenerationParams(stop=tuple(str(i) for i in range(9)))


def test_the_answer_is_cut_to_fit_the_models_context(tiny):
    """The tiny model reads 1024 tokens: a 1000-token prompt leaves room for 24, not 100."""
    prompt = " ".join(["lantern"] * 2000)
    ids = tiny.tokenizer(prompt, add_special_tokens=False)["input_ids"][:1000]
    text = tiny.tokenizer.decode(ids)
    result = generate(tiny, prompt=text, params=GenerationParams(max_new_tokens=100, min_new_tokens=1, temperature=0))
    assert result.usage.prompt_tokens + result.usage.completion_tokens <= 1024
    assert result.finish_reason in ("length", "eos")


def test_a_prompt_that_fills_the_context_is_refused_in_one_line(tiny):
    from generation.errors import PromptTooLongError

    prompt = " ".join(["lantern"] * 2000)
    with pytest.raises(PromptTooLongError, match="reads at most 1024 tokens in all"):
        generate(tiny, prompt=prompt, params=GenerationParams(max_new_tokens=10))


def test_the_seed_drawn_for_a_request_reproduces_its_text(tiny):
    first = generate(tiny, prompt="The sea", params=GenerationParams(max_new_tokens=8, min_new_tokens=8))
    again = generate(tiny, prompt="The sea", params=GenerationParams(max_new_tokens=8, min_new_tokens=8, seed=first.seed))
    assert again.text == first.text


@pytest.mark.parametrize(("prefill", "new"), [("the reduction", " One key point"), ("wanted to", " go on."),
                                               ("Line one.\n", "Line two")])
def test_text_after_a_prefill_keeps_the_space_its_first_token_starts_with(smollm2_tokenizer_dir, prefill, new):
    """The real (SmolLM2, byte-level BPE) tokenizer: a continuation's first token carries its own
    leading space; decoded after the end of the prefill it is neither lost nor doubled."""
    from transformers import AutoTokenizer

    from generation.streaming import PREFILL_CONTEXT_TOKENS

    tokenizer = AutoTokenizer.from_pretrained(smollm2_tokenizer_dir)
    prefill_ids = tokenizer(prefill, add_special_tokens=False)["input_ids"]
    new_ids = tokenizer(prefill + new, add_special_tokens=False)["input_ids"][len(prefill_ids):]
    decoder = IncrementalDecoder(tokenizer, prefill_ids[-PREFILL_CONTEXT_TOKENS:])
    text = "".join(decoder.push(token) for token in new_ids) + decoder.flush()
    assert text == new
    assert prefill + text == tokenizer.decode(prefill_ids + new_ids, clean_up_tokenization_spaces=False)
