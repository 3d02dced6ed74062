"""Use cases of the article editor beyond a plain save (articles.revisions.article_save):
restoring an old revision, and "rewrite this paragraph" suggestions that a person accepts into
the text (machine-written, with the suggestion's own provenance) or discards."""

from django.db import transaction

from accounts.permissions import WorkspacePermissionDenied
from articles.models import SUGGESTION, Article, ArticleRevision, Generation
from articles.revisions import article_save, revision_at
from articles.workflow import edit_refusal
from core.errors import FieldErrors
from core.text import unstorable_reason

REWRITE_INSTRUCTION = ("Rewrite the passage below in the voice described in your instructions. Keep its meaning "
                       "and facts.")
PASSAGE_PROMPT = "{instruction}\nAnswer with the rewritten passage only, nothing before or after it.\n\nPassage:\n{passage}"
MAX_PASSAGE_CHARS = 4_000
MAX_INSTRUCTION_CHARS = 1_000


class SuggestionError(FieldErrors):
    """A suggestion that cannot be made, accepted or discarded, as {field: message}."""


def _refuse_unless_editable(membership, article: Article) -> None:
    if (refusal := edit_refusal(membership, article)) is not None:
        raise WorkspacePermissionDenied(refusal)


def revision_restore(*, article: Article, membership, number: int, base_revision: int) -> ArticleRevision:
    """Make revision `number`'s title and text the next revision ("Restored rN"). Raises
    ArticleRevision.DoesNotExist for a number the article does not have, EditConflict when
    someone saved since `base_revision`."""
    old = revision_at(article, number)
    return article_save(article=article, membership=membership, title=old.title, body=old.body,
                        base_revision=base_revision, note=f"Restored r{number}")


def _article_model(article: Article) -> str:
    """The model the article was written with (its chosen variant's, else its first run's)."""
    source = article.chosen or article.generations.exclude(kind=SUGGESTION).order_by("created_at").first()
    if source is not None and source.model_version_id:
        return source.model_version.name
    return ""


@transaction.atomic
def suggestion_create(*, article: Article, membership, passage: str, instruction: str = "",
                      style=None) -> Generation:
    """Queue a run that rewrites `passage` of the article, following `instruction` and/or in
    `style`'s voice (a styles.StyleProfile of the workspace): its system prompt, parameters and
    default model. Without a style it uses the article's model. Checked like drafting: the
    member's rate and their cap on queued and running generations."""
    from articles import services as drafting
    from catalog.services import UnknownModel, model_resolve

    _refuse_unless_editable(membership, article)
    passage, instruction = (passage or "").strip(), (instruction or "").strip()
    errors = {}
    if not passage:
        errors["passage"] = "Select the passage to rewrite in the text first."
    elif len(passage) > MAX_PASSAGE_CHARS:
        errors["passage"] = f"The passage is {len(passage):,} characters; select at most {MAX_PASSAGE_CHARS:,}."
    elif reason := unstorable_reason(passage):
        errors["passage"] = f"The passage {reason}."
    elif repeated := _repeated(passage, article.body):
        errors["passage"] = repeated
    if len(instruction) > MAX_INSTRUCTION_CHARS:
        errors["instruction"] = f"The instruction is {len(instruction):,} characters; keep it under {MAX_INSTRUCTION_CHARS:,}."
    elif reason := unstorable_reason(instruction):
        errors["instruction"] = f"The instruction {reason}."
    if style is not None and style.workspace_id != article.workspace_id:
        errors["style"] = "Not found in this workspace."
    elif style is not None and style.current is None:
        errors["style"] = "This style has no saved version yet."
    if style is None and not instruction and "instruction" not in errors:
        errors["instruction"] = "Pick a style or say how to rewrite it."
    if errors:
        raise SuggestionError(errors)
    version = style.current if style is not None else None
    try:
        model = model_resolve(article.workspace, (version.default_model_name if version else "") or _article_model(article))
    except UnknownModel as exc:
        raise SuggestionError({"style" if version else "model": str(exc)}) from None
    params = drafting._params(version, {}) if version else dict((article.chosen.params if article.chosen else None) or {})
    drafting._check_capacity(membership.user, 1)
    prompt = PASSAGE_PROMPT.format(instruction=instruction or REWRITE_INSTRUCTION, passage=passage)
    return drafting._new_generation(
        article=article, user=membership.user, variant=0, kind=SUGGESTION, prompt=prompt,
        system_prompt=version.system_prompt if version else "", model=model.spec, model_version=model.version,
        params=params, seed=drafting._new_seed(), style_version=version, passage=passage, announce=False,
    )


def suggestion_text(suggestion: Generation) -> str:
    return (suggestion.prefix + suggestion.text).strip()


def _repeated(passage: str, body: str) -> str | None:
    """Why a passage that occurs more than once cannot be rewritten (only its text is kept, so
    which occurrence was selected is unknown); None when it occurs at most once."""
    count = body.count(passage)
    if count > 1:
        return (f"The passage appears {count} times in the text; select a longer one so that it is clear "
                "which to rewrite.")
    return None


def _open_suggestion(suggestion: Generation, membership) -> Generation:
    if suggestion.kind != SUGGESTION:
        raise SuggestionError({"suggestion": "That generation is not a rewrite suggestion."})
    _refuse_unless_editable(membership, suggestion.article)
    locked = Generation.objects.select_for_update().get(pk=suggestion.pk)
    if locked.outcome:
        raise SuggestionError({"suggestion": f"This suggestion was {locked.outcome} already."})
    return locked


@transaction.atomic
def suggestion_accept(*, suggestion: Generation, membership, base_revision: int) -> ArticleRevision:
    """Replace the passage in the article's latest text with the suggestion's text and save it
    as the next revision, taken from the suggestion (so it counts as machine-written). Raises
    EditConflict when someone saved since `base_revision`, SuggestionError when the passage is no
    longer in the text or the suggestion has no finished text."""
    suggestion = _open_suggestion(suggestion, membership)
    article = suggestion.article
    text = suggestion_text(suggestion)
    if suggestion.status != Generation.Status.COMPLETED or not text:
        raise SuggestionError({"suggestion": "The suggestion has not finished writing yet."
                               if suggestion.is_active else "The suggestion has no text to use."})
    if suggestion.passage not in article.body:
        raise SuggestionError({"passage": "The passage is no longer in the saved text (it was edited meanwhile); "
                                          "select it again and ask for a new suggestion."})
    if repeated := _repeated(suggestion.passage, article.body):
        raise SuggestionError({"passage": repeated})
    body = article.body.replace(suggestion.passage, text, 1)
    revision = article_save(article=article, membership=membership, title=article.title, body=body,
                            base_revision=base_revision, note="Accepted a rewrite suggestion", generation=suggestion)
    suggestion.outcome = "accepted"
    suggestion.save(update_fields=["outcome"])
    return revision


@transaction.atomic
def suggestion_discard(*, suggestion: Generation, membership) -> Generation:
    """Drop the suggestion (a run still writing is cancelled); it stays in the history."""
    from articles.services import generation_cancel

    suggestion = _open_suggestion(suggestion, membership)
    if suggestion.is_active:
        generation_cancel(generation=suggestion)
    suggestion.outcome = "discarded"
    suggestion.save(update_fields=["outcome"])
    return suggestion
