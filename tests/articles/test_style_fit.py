"""The worker scores a finished generation against its style's example passages (tiny model)."""

import pytest

from articles import services
from articles.runner import run_generation, score_style_fit
from styles.services import style_create


def draft_in(workspace, writer, style):
    article = services.draft_create(workspace=workspace, user=writer, request=services.DraftRequest(
        prompt="Tell me about lanterns.", style_version=style.current, seed=5, params={"max_new_tokens": 16}))
    return article.generations.get()


@pytest.mark.django_db(transaction=True)
def test_a_generation_with_a_style_with_examples_gets_a_style_fit(workspace, writer, tiny_model):
    style = style_create(workspace=workspace, user=writer, name="Harbour voice", voice="Salty.",
                         examples="The gulls wheeled over the harbour.\n---\nRopes creaked against the pier.")
    generation = draft_in(workspace, writer, style)
    run_generation(generation.pk)
    generation.refresh_from_db()
    assert generation.status == "completed"
    assert generation.style_fit is not None and 0.0 <= generation.style_fit <= 1.0


@pytest.mark.django_db(transaction=True)
def test_a_style_without_examples_leaves_it_empty(workspace, writer, tiny_model):
    style = style_create(workspace=workspace, user=writer, name="Plain", voice="Plain.")
    generation = draft_in(workspace, writer, style)
    run_generation(generation.pk)
    generation.refresh_from_db()
    assert generation.status == "completed" and generation.style_fit is None


@pytest.mark.django_db(transaction=True)
def test_a_scoring_failure_leaves_the_generation_completed_without_a_score(workspace, writer, tiny_model):
    style = style_create(workspace=workspace, user=writer, name="Harbour voice", voice="Salty.",
                         examples="The gulls wheeled over the harbour.")
    generation = draft_in(workspace, writer, style)
    run_generation(generation.pk)
    generation.refresh_from_db()
    generation.style_fit = None
    generation.save(update_fields=["style_fit"])
    score_style_fit([generation.pk], loaded="not a model at all")  # the scorer cannot use it
    generation.refresh_from_db()
    assert generation.status == "completed" and generation.style_fit is None
