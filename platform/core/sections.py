"""The product's sections, as the navigation shows them. Each later feature fills its page."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Section:
    slug: str
    title: str
    group: str | None
    summary: str
    empty: str
    url_name: str = ""  # the feature's own page, once it has one


SECTIONS = [
    Section("write", "Write", None, "Start a draft from a template, a free prompt or a text to rewrite.",
            "No drafts yet.", "write"),
    Section("review", "Review", None, "Drafts waiting for an editor: diff, comments, approve or request changes.",
            "Nothing to review. Drafts sent for review will queue here.", "review_queue"),
    Section("prompts", "Prompts", "Library", "Prompt templates with variables, versioned.",
            "No prompt templates yet.", "prompt_list"),
    Section("styles", "Styles", "Library", "Style profiles: a brand or classroom voice.",
            "No style profiles yet.", "style_list"),
    Section("datasets", "Datasets", "Library", "Example texts to fine-tune on.",
            "No datasets yet.", "corpora:dataset_list"),
    Section("models", "Models", None, "Base models and fine-tuned versions available to this workspace.",
            "Only the bundled default model so far.", "catalog:model_list"),
    Section("training", "Training", None, "Fine-tuning runs: progress, metrics, checkpoints.",
            "No training runs yet.", "training:run_list"),
    Section("published", "Published", None, "Approved articles, published or scheduled.",
            "Nothing published yet.", "published_list"),
]
SECTIONS_BY_SLUG = {section.slug: section for section in SECTIONS}
