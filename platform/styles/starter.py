"""Starter style profiles every new workspace gets."""

from styles.models import StyleProfile
from styles.services import style_create

STARTER_STYLES = [
    {
        "name": "Friendly brand voice",
        "voice": "Warm, upbeat and plain-spoken, like a helpful shop owner who loves the product. "
                 "Concrete details over superlatives.",
        "audience": "Busy customers who skim on their phones",
        "tone": "Friendly, confident, never pushy",
        "reading_level": 8,
        "do_rules": "Use \"you\" and \"we\"\nLead with the benefit\nKeep paragraphs to three sentences\nEnd with one clear next step",
        "dont_rules": "Don't use jargon or buzzwords\nDon't promise what the product can't do\nDon't use more than one exclamation mark",
        "banned_words": "synergy, revolutionary, game-changer, leverage, best-in-class",
        "examples": "Meet the lantern that charges while you hike. Clip it to your pack in the morning; by dusk it lights your whole camp for eight hours.\n---\nWe heard you: the new lid twists off with one hand, even with gloves on.",
        "default_params": {"temperature": 0.7, "top_p": 0.9, "max_new_tokens": 400, "repetition_penalty": 1.1},
    },
    {
        "name": "Clear classroom English",
        "voice": "Clear, patient and encouraging. Explains one idea at a time and checks understanding.",
        "audience": "Students aged 9 to 12 and their teachers",
        "tone": "Kind, calm, precise",
        "reading_level": 5,
        "do_rules": "Use short sentences\nDefine every new word the first time it appears\nGive an example for each idea\nNumber steps and questions",
        "dont_rules": "Don't use idioms or sarcasm\nDon't use words a 10-year-old would not know without explaining them",
        "banned_words": "",
        "examples": "A fraction shows part of a whole. If you cut a pizza into 4 equal slices and eat 1, you ate 1/4 of the pizza.",
        "default_params": {"temperature": 0.6, "top_p": 0.9, "max_new_tokens": 500, "repetition_penalty": 1.1},
    },
]


def seed_starter_styles(*, workspace, user=None) -> int:
    added = 0
    for spec in STARTER_STYLES:
        if not StyleProfile.objects.filter(workspace=workspace, name=spec["name"]).exists():
            style_create(workspace=workspace, user=user, **spec)
            added += 1
    return added
