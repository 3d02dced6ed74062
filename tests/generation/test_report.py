"""Base vs tuned evaluation on the tiny model and a random LoRA adapter over it."""

from generation.training.report import compare_models, sample_prompts

RECORDS = [
    {"prompt": "Describe the lantern.", "completion": "Arr, the lantern be bright as a gull's eye."},
    {"prompt": "Describe the rope.", "completion": "Arr, this rope be strong as an anchor chain."},
    {"messages": [{"role": "user", "content": "Describe the map."}, {"role": "assistant", "content": "Arr, a map!"}]},
]


def test_sample_prompts_are_the_first_requests_and_text_openings():
    prompts = sample_prompts([*RECORDS, {"prompt": "Fourth", "completion": "x"}], n=3)
    assert [p["prompt"] for p in prompts] == ["Describe the lantern.", "Describe the rope.", "Describe the map."]
    text = sample_prompts([{"text": " ".join(f"w{i}" for i in range(30))}])[0]
    assert text["prompt"] == text["prefill"] == " ".join(f"w{i}" for i in range(12))


def test_compare_models_scores_both_on_the_same_prompts_and_seed(tiny_model_dir, tiny_lora_dir):
    report = compare_models(str(tiny_model_dir), tiny_lora_dir, RECORDS, seed=7, max_new_tokens=12,
                            style_examples=["Arr, matey, fair winds and dry socks!"])
    assert report["before"]["perplexity"] > 0 and report["after"]["perplexity"] > 0
    assert report["before"] != report["after"]  # the adapter changes the model
    assert report["improved"] == (report["after"]["perplexity"] < report["before"]["perplexity"])
    assert len(report["samples"]) == 3 and report["seed"] == 7 and report["val_records"] == 3
    sample = report["samples"][0]
    assert sample["prompt"] == "Describe the lantern." and sample["base"] and sample["tuned"]
    assert any(s["base"] != s["tuned"] for s in report["samples"])
    assert 0 <= sample["base_style_fit"] <= 1 and sample["base_grade"] is not None
    again = compare_models(str(tiny_model_dir), tiny_lora_dir, RECORDS, seed=7, max_new_tokens=12)
    assert [s["base"] for s in again["samples"]] == [s["base"] for s in report["samples"]]  # same seed, same text
    assert again["style_fit"] == {"base": None, "tuned": None}  # no examples: not scored
