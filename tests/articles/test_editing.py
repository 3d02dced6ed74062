"""The editor's services: saving as revisions with a version check, authorship, restore,
rewrite suggestions, and the word diff they are shown with."""

import pytest
from django_q.models import OrmQ

from accounts.permissions import WorkspacePermissionDenied, membership_for
from articles import editing, services
from articles.models import Article, ArticleRevision, Generation
from articles.revisions import EditConflict, article_save
from styles.services import style_create

GENERATED = "The Sun Lantern charges all day.\n\nIt lights a tent for eight hours on one charge."


@pytest.fixture
def editor(make_member, workspace):
    return make_member("editor", workspace, username="edna")


@pytest.fixture
def article(workspace, writer):
    """A draft whose variant 1 finished and was used: revision 1, all machine-written."""
    article = services.draft_create(workspace=workspace, user=writer, request=services.DraftRequest(prompt="Lantern"))
    generation = article.generations.get()
    Generation.objects.filter(pk=generation.pk).update(status="completed", text=GENERATED)
    generation.refresh_from_db()
    services.article_choose(article=article, generation=generation, membership=membership_for(writer, workspace.pk))
    article.refresh_from_db()
    return article


def member(user, article):
    return membership_for(user, article.workspace_id)


def test_two_saves_from_the_same_base_the_second_is_refused_and_nothing_is_overwritten(article, writer, editor):
    base = article.revision
    article_save(article=article, membership=member(editor, article), title=article.title,
                 body=GENERATED + "\n\nEditor's line.", base_revision=base)
    stale = Article.objects.get(pk=article.pk)
    stale.revision = base  # the writer's page still holds the old base
    with pytest.raises(EditConflict) as excinfo:
        article_save(article=stale, membership=member(writer, article), title=article.title,
                     body="The writer's own text.", base_revision=base)
    conflict = excinfo.value
    assert conflict.latest.number == base + 1 and conflict.latest.body.endswith("Editor's line.")
    assert conflict.body == "The writer's own text."
    assert "saved revision 2 after you opened revision 1" in str(conflict)
    article.refresh_from_db()
    assert article.revision == 2 and article.body.endswith("Editor's line.")
    assert ArticleRevision.objects.filter(article=article).count() == 2


def test_an_editors_edit_lowers_the_machine_share(article, editor):
    first = article.revisions.get(number=1)
    assert first.machine_share == 1.0 and first.generation == article.chosen
    edited = GENERATED.replace("charges all day", "soaks up sunshine from dawn to dusk")
    revision = article_save(article=article, membership=member(editor, article), title=article.title, body=edited,
                            base_revision=article.revision)
    assert 0.5 < revision.machine_share < 1.0
    assert revision.created_by == editor


def test_unchanged_text_makes_no_revision(article, writer):
    again = article_save(article=article, membership=member(writer, article), title=article.title,
                         body=article.body, base_revision=article.revision)
    assert again.number == 1 and article.revisions.count() == 1


def test_restore_saves_the_old_revision_as_the_next_one(article, editor):
    article_save(article=article, membership=member(editor, article), title="New title", body="Short now.",
                 base_revision=1)
    restored = editing.revision_restore(article=article, membership=member(editor, article), number=1, base_revision=2)
    assert (restored.number, restored.note, restored.body, restored.title) == (3, "Restored r1", GENERATED, article.chosen.article.title)
    with pytest.raises(EditConflict):
        editing.revision_restore(article=article, membership=member(editor, article), number=2, base_revision=2)


def test_writer_cannot_edit_someone_elses_article(article, make_member, workspace):
    other = make_member("writer", workspace, username="walt")
    with pytest.raises(WorkspacePermissionDenied, match="only on what you created"):
        article_save(article=article, membership=member(other, article), title="x", body="y", base_revision=1)


@pytest.fixture
def style(workspace):
    return style_create(workspace=workspace, user=None, name="Sunny", voice="Bright and short.",
                        default_params={"temperature": 0.5, "max_new_tokens": 64})


def test_rewrite_a_passage_in_a_style_queues_a_suggestion_with_its_own_provenance(article, editor, style, django_capture_on_commit_callbacks):
    passage = "It lights a tent for eight hours on one charge."
    with django_capture_on_commit_callbacks(execute=True):
        suggestion = editing.suggestion_create(article=article, membership=member(editor, article), passage=passage, style=style)
    assert (suggestion.kind, suggestion.passage, suggestion.variant, suggestion.status) == ("suggestion", passage, 0, "queued")
    assert suggestion.style_version == style.current and suggestion.system_prompt == style.current.system_prompt
    assert passage in suggestion.prompt and "voice described in your instructions" in suggestion.prompt
    assert suggestion.params["max_new_tokens"] == 64
    assert OrmQ.objects.count() == 1
    from articles.selectors import variant_runs

    assert suggestion.pk not in {g.pk for group in variant_runs(article) for g in [group["latest"], *group["earlier"]]}  # not a variant of the article page


def test_rewrite_needs_a_passage_and_a_style_or_an_instruction(article, editor):
    with pytest.raises(editing.SuggestionError) as excinfo:
        editing.suggestion_create(article=article, membership=member(editor, article), passage="  ")
    assert excinfo.value.errors == {"passage": "Select the passage to rewrite in the text first.",
                                    "instruction": "Pick a style or say how to rewrite it."}
    assert not Generation.objects.filter(kind="suggestion").exists()


def test_accepting_a_suggestion_replaces_the_passage_as_machine_written(article, editor):
    passage = "My own words: a tent stays lit all night long."  # typed by the editor: human-written
    membership = member(editor, article)
    article_save(article=article, membership=membership, title=article.title,
                 body="I wrote this intro myself, every word.\n\n" + passage, base_revision=1)
    before = article.revisions.get(number=2).machine_share
    suggestion = editing.suggestion_create(article=article, membership=membership, passage=passage,
                                           instruction="Make it punchier.")
    with pytest.raises(editing.SuggestionError, match="not finished"):
        editing.suggestion_accept(suggestion=suggestion, membership=membership, base_revision=2)
    Generation.objects.filter(pk=suggestion.pk).update(status="completed", text=" Eight hours of light. One charge. ")
    suggestion.refresh_from_db()
    revision = editing.suggestion_accept(suggestion=suggestion, membership=membership, base_revision=2)
    assert revision.body == "I wrote this intro myself, every word.\n\nEight hours of light. One charge."
    assert revision.generation == suggestion and revision.machine_share > before
    suggestion.refresh_from_db()
    assert suggestion.outcome == "accepted"
    with pytest.raises(editing.SuggestionError, match="accepted already"):
        editing.suggestion_discard(suggestion=suggestion, membership=membership)


def test_discarding_a_suggestion_cancels_it_and_keeps_the_text(article, editor):
    membership = member(editor, article)
    suggestion = editing.suggestion_create(article=article, membership=membership, passage="Sun Lantern",
                                           instruction="Say it in French.")
    editing.suggestion_discard(suggestion=suggestion, membership=membership)
    suggestion.refresh_from_db()
    assert (suggestion.outcome, suggestion.status) == ("discarded", "cancelled")
    article.refresh_from_db()
    assert article.body == GENERATED and article.revision == 1



@pytest.mark.django_db(transaction=True)
def test_the_worker_writes_a_suggestion_that_is_then_accepted(workspace, writer, tiny_model):
    from articles.runner import run_generation

    article = services.draft_create(workspace=workspace, user=writer, request=services.DraftRequest(
        prompt="Lantern", params={"max_new_tokens": 12}))
    generation = article.generations.get()
    Generation.objects.filter(pk=generation.pk).update(status="completed", text=GENERATED)
    generation.refresh_from_db()
    membership = member(writer, article)
    services.article_choose(article=article, generation=generation, membership=membership)
    suggestion = editing.suggestion_create(article=article, membership=membership, passage="The Sun Lantern",
                                           instruction="Use a shorter name.")
    assert suggestion.params["max_new_tokens"] == 12  # the article's parameters, without a style
    run_generation(suggestion.pk)
    suggestion.refresh_from_db()
    assert suggestion.status == "completed" and editing.suggestion_text(suggestion)
    revision = editing.suggestion_accept(suggestion=suggestion, membership=membership, base_revision=1)
    assert revision.body.startswith(editing.suggestion_text(suggestion)) and revision.number == 2
