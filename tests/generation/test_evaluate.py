"""Evaluation: perplexity (tiny model + real model), reading grade, style fit, CLI."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from generation.errors import DatasetError
from generation.evaluate import perplexity, reading_grade, style_fit
from generation.training.data import read_records

DATA = Path(__file__).resolve().parents[2] / "bench" / "data"

TEXTS = [
    "Hi.",
    "The ridge trail climbs steeply through pines before it opens onto a wide, windy saddle.",
    "Pack a warm layer.",
    "Rain jackets, dry bags and wool socks keep a weekend trip comfortable when the weather turns.",
    "Ahoy matey, fair winds and dry socks!",
]


@pytest.fixture(scope="module")
def tiny(tiny_model_dir):
    from generation.models import load_model

    return load_model(str(tiny_model_dir))


def test_perplexity_batched_equals_unbatched(tiny):
    one = perplexity(tiny, TEXTS, batch_size=1)
    many = perplexity(tiny, TEXTS, batch_size=8)
    assert one.tokens == many.tokens > 0
    assert math.isclose(one.mean_loss, many.mean_loss, rel_tol=1e-5)
    assert math.isclose(many.perplexity, math.exp(many.mean_loss), rel_tol=1e-9)


def test_perplexity_of_records_scores_completions_only(tiny):
    records = read_records(DATA / "voice_heldout.jsonl")[:4]
    a = perplexity(tiny, records, batch_size=1)
    b = perplexity(tiny, records, batch_size=3)
    assert math.isclose(a.mean_loss, b.mean_loss, rel_tol=1e-5)
    full = perplexity(tiny, [r["prompt"] + " " + r["completion"] for r in records])
    assert a.tokens < full.tokens  # prompt and template tokens are not scored


def test_perplexity_errors(tiny):
    with pytest.raises(DatasetError, match="no texts"):
        perplexity(tiny, [])
    with pytest.raises(DatasetError, match="record 1: missing field 'completion'"):
        perplexity(tiny, [{"prompt": "a", "completion": "b"}, {"prompt": "c"}])


def test_reading_grade_orders_simple_below_complex():
    simple = "The cat sat on the mat. It was warm. The sun was out."
    medium = "Our hiking boots keep your feet dry on long walks through wet grass and mud."
    complex_ = (
        "Notwithstanding considerable institutional resistance, the administration implemented "
        "comprehensive organizational restructuring initiatives, fundamentally reconfiguring "
        "interdepartmental accountability relationships."
    )
    g = [reading_grade(t) for t in (simple, medium, complex_)]
    assert g[0] < g[1] < g[2], g
    assert g[0] < 4 and g[2] > 14
    with pytest.raises(ValueError):
        reading_grade("  ")


IN_VOICE = "Ahoy, trail-farer! The Tidewalker sandals grip wet rocks like barnacles. Fair winds and dry socks!"
OUT_OF_VOICE = "The Tidewalker sandals have a rubber outsole and adjustable straps. Available in three sizes."


def test_style_fit_ranks_in_voice_above_out_of_voice(tiny):
    examples = [r["completion"] for r in read_records(DATA / "voice.jsonl")][:20]
    a, b = style_fit(IN_VOICE, examples, model=tiny), style_fit(OUT_OF_VOICE, examples, model=tiny)
    assert 0 <= b < a <= 1, (a, b)
    assert style_fit(IN_VOICE, examples, model=tiny) == pytest.approx(a)  # cached centroid
    with pytest.raises(ValueError):
        style_fit("text", [], model=tiny)


def test_cli_evaluate(tiny_model_dir, tmp_path, capsys):
    from generation.cli import main

    data = tmp_path / "e.jsonl"
    data.write_text("".join(json.dumps({"text": t}) + "\n" for t in TEXTS))
    assert main(["evaluate", "--data", str(data), "--model", str(tiny_model_dir)]) == 0
    out = capsys.readouterr().out
    assert "perplexity: " in out and "loss: " in out and "tokens: " in out

    txt = tmp_path / "e.txt"
    txt.write_text("First passage here.\n\nSecond passage, a bit longer than the first.\n")
    assert main(["evaluate", "--data", str(txt), "--model", str(tiny_model_dir)]) == 0
    assert "records: 2" in capsys.readouterr().out


@pytest.mark.parametrize(
    "content, message",
    [("", "empty"), ('{"text": "a"}\n[1, 2\n', "line 2: invalid JSON"), (None, "not found")],
)
def test_cli_evaluate_errors(tmp_path, capsys, content, message):
    from generation.cli import main

    data = tmp_path / "e.jsonl"
    if content is not None:
        data.write_text(content)
    assert main(["evaluate", "--data", str(data), "--model", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and message in err and "\n" not in err


@pytest.mark.real_model
def test_real_model_perplexity(default_model_dir):
    from generation.models import load_model

    # float32: in bf16 (the CPU default) batched and single losses drift ~2e-3 apart
    loaded = load_model(f"{default_model_dir}?dtype=float32")
    heldout = read_records(DATA / "voice_heldout.jsonl")
    a = perplexity(loaded, heldout, batch_size=1)
    b = perplexity(loaded, heldout, batch_size=8)
    # fp32 attention with and without a padding mask takes different kernels: ~1e-4 apart
    assert math.isclose(a.mean_loss, b.mean_loss, rel_tol=1e-3)
    assert 5 < b.perplexity < 1000  # a real instruct model on unusual but English text
    plain = perplexity(loaded, ["The weather today is sunny and warm, with a light breeze."])
    assert plain.perplexity < b.perplexity  # the pirate voice is surprising before fine-tuning


@pytest.mark.real_model
def test_real_model_style_fit(default_model_dir):
    from generation.models import load_model

    loaded = load_model(str(default_model_dir))
    pirate = [r["completion"] for r in read_records(DATA / "voice.jsonl")]
    neutral = [r["text"] for r in read_records(DATA / "style_neutral.jsonl")]
    assert style_fit(IN_VOICE, pirate, model=loaded) > style_fit(OUT_OF_VOICE, pirate, model=loaded)
    # The same pair against a neutral catalogue voice ranks the other way round.
    assert style_fit(OUT_OF_VOICE, neutral, model=loaded) > style_fit(IN_VOICE, neutral, model=loaded)
