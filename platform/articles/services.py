"""Use cases of drafting: create a draft with variants, cancel, retry, regenerate, continue."""

import logging
import random
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.text import Truncator

from accounts.permissions import WorkspacePermissionDenied
from articles.events import publish, publish_to_article, state_event
from articles.models import SUGGESTION, Article, Generation
from catalog.services import UnknownModel, default_choice, model_resolve
from core.errors import FieldErrors
from prompts.rendering import fill_values, render

REWRITE_PROMPT = (
    "Rewrite the following text in the voice described in your instructions. Keep its facts and "
    "structure; change the wording, rhythm and tone.\n\nText:\n{text}"
)
CONTINUE_MIN_NEW_TOKENS = 16  # "Continue writing" asks for more: the model may not end its answer at once


logger = logging.getLogger(__name__)


class DraftError(FieldErrors):
    """Bad draft input, as {field: message}."""


class RateLimited(WorkspacePermissionDenied):
    """Too much work asked for at once; `retry_after` says when (seconds) to try again."""

    def __init__(self, message: str, retry_after: int | None = None):
        super().__init__(message)
        self.retry_after = retry_after


MAX_VARIANTS = 4
MAX_PROMPT_CHARS = 20_000  # the rendered prompt or text to rewrite; the worker checks the model's context exactly


@dataclass
class DraftRequest:
    """Everything a writer chooses on the new-draft page (or in the API)."""

    title: str = ""
    template_version: object = None  # prompts.PromptTemplateVersion
    variables: dict = field(default_factory=dict)
    prompt: str = ""
    rewrite_text: str = ""
    style_version: object = None  # styles.StyleProfileVersion
    model: str = ""
    params: dict = field(default_factory=dict)
    variants: int = 1
    seed: int | None = None


def _check_capacity(user, new: int) -> None:
    """Refuse work beyond the user's per-minute rate or their cap on queued+running generations,
    counting the `new` generations about to be created. The user's row is locked first so that
    two requests of one user cannot both slip under a limit."""
    from accounts.models import User

    User.objects.select_for_update().filter(pk=user.pk).first()
    mine = Generation.objects.filter(created_by=user)
    cap = settings.INKSTONE_MAX_ACTIVE_GENERATIONS_PER_USER
    active = mine.filter(status__in=Generation.ACTIVE).count()
    if active + new > cap:
        raise RateLimited(
            f"You have {active} generation{'s' if active != 1 else ''} queued or running and asked for {new} more; "
            f"at most {cap} may wait or run at once. Wait for some to finish (or cancel some) and try again.",
            retry_after=10,
        )
    limit = settings.INKSTONE_GENERATIONS_PER_MINUTE
    since = timezone.now() - timedelta(seconds=60)
    recent = list(mine.filter(created_at__gte=since).order_by("created_at").values_list("created_at", flat=True))
    if len(recent) + new > limit:
        # A slot frees when the oldest of the ones that must leave the window turns a minute old.
        must_leave = len(recent) + new - limit
        if must_leave > len(recent):
            raise RateLimited(f"You asked for {new} generations at once; the limit is {limit} per minute.")
        oldest = recent[must_leave - 1]
        wait = max(1, int((oldest + timedelta(seconds=60) - timezone.now()).total_seconds()) + 1)
        raise RateLimited(
            f"You started {len(recent)} generations in the last minute and asked for {new} more; the limit "
            f"is {limit} per minute. Try again in {wait} s.",
            retry_after=wait,
        )


def _params(style_version, overrides: dict) -> dict:
    from core.sampling import clamp, params_errors

    chosen = {k: v for k, v in overrides.items() if v not in (None, "")}
    defaults = style_version.params() if style_version else {}
    if "max_new_tokens" in defaults:  # the server's limit may have fallen since the style was saved
        defaults["max_new_tokens"] = clamp("max_new_tokens", defaults["max_new_tokens"])
    params = {**defaults, **chosen}
    errors = params_errors(params)
    if errors:
        raise DraftError({"params": "; ".join(errors.values())})
    return params


def _new_seed() -> int:
    return random.randrange(2**31)


def _user_prompt(request: DraftRequest) -> tuple[str, str, str]:
    """(source, title, prompt) from a template, a free prompt or a text to rewrite."""
    if request.template_version is not None:
        variables = request.template_version.variable_list()
        values, errors = fill_values(variables, request.variables)
        if errors:
            raise DraftError({f"variables.{name}": message for name, message in errors.items()})
        prompt = render(request.template_version.body, values)
        title = request.title.strip() or _title_variable(variables, values) or request.template_version.template.name
        return Article.Source.TEMPLATE, title, prompt
    if request.rewrite_text.strip():
        if request.style_version is None:
            raise DraftError({"style": "Pick the style to rewrite the text in."})
        title = request.title or f"Rewrite in {request.style_version.profile.name}"
        return Article.Source.REWRITE, title, REWRITE_PROMPT.format(text=request.rewrite_text.strip())
    if request.prompt.strip():
        title = request.title or Truncator(request.prompt.strip().splitlines()[0]).chars(80)
        return Article.Source.FREE, title, request.prompt.strip()
    raise DraftError({"prompt": "Start from a template, write a prompt, or paste a text to rewrite."})


def _title_variable(variables, values: dict) -> str:
    """The value of the template's own "Title" variable (by name or label, any case), if it has one."""
    for variable in variables:
        if "title" in (variable.name.strip().lower(), str(variable.as_dict()["label"]).strip().lower()):
            return (values.get(variable.name) or "").strip()
    return ""


def _enqueue(generation: Generation) -> None:
    from django_q.tasks import async_task

    transaction.on_commit(
        lambda: async_task("articles.tasks.run_generation", generation.pk, cluster="generation",
                           task_name=f"generation-{generation.pk}")
    )


def _new_generation(*, article, user, variant, kind, prompt, system_prompt, model, params, seed, model_version=None,
                    template_version=None, style_version=None, variables=None, prefix="", prefill="", passage="",
                    announce=True) -> Generation:
    """`announce=False`: the article page's variants do not show it (a rewrite suggestion)."""
    generation = Generation.objects.create(
        article=article, workspace=article.workspace, variant=variant, kind=kind,
        model_name=model, model_version=model_version, template_version=template_version, style_version=style_version,
        variables=variables or {}, prompt=prompt, system_prompt=system_prompt, prefix=prefix, prefill=prefill,
        passage=passage,
        params=params, seed=seed, created_by=user,
    )
    _enqueue(generation)
    if announce:
        transaction.on_commit(lambda: publish_to_article(article.pk, {"type": "article.generation", "id": generation.pk}))
    return generation


@transaction.atomic
def draft_create(*, workspace, user, request: DraftRequest) -> Article:
    """An Article with one queued Generation per variant; the tasks start after commit."""
    from generation.params import SEED

    variants = request.variants
    if isinstance(variants, bool) or not isinstance(variants, int) or not 1 <= variants <= MAX_VARIANTS:
        raise DraftError({"variants": f"Choose between 1 and {MAX_VARIANTS} variants."})
    if request.seed is not None and (problem := SEED.problem(request.seed)):
        raise DraftError({"seed": problem})
    for version, name in ((request.template_version, "template"), (request.style_version, "style")):
        if version is not None and _workspace_of(version) != workspace.pk:
            raise DraftError({name: "Not found in this workspace."})
    source, title, prompt = _user_prompt(request)
    if len(prompt) > MAX_PROMPT_CHARS:
        where = {Article.Source.TEMPLATE: "variables", Article.Source.REWRITE: "rewrite_text"}.get(source, "prompt")
        raise DraftError({where: f"The prompt would be {len(prompt):,} characters; keep it under {MAX_PROMPT_CHARS:,}."})
    params = _params(request.style_version, request.params)
    _check_capacity(user, variants)
    model = _model(workspace, request)
    system_prompt = request.style_version.system_prompt if request.style_version else ""
    article = Article.objects.create(workspace=workspace, title=title[:200], source=source, created_by=user)
    base_seed = request.seed if request.seed is not None else _new_seed()
    for variant in range(1, variants + 1):
        _new_generation(
            article=article, user=user, variant=variant, kind="draft", prompt=prompt,
            system_prompt=system_prompt, model=model.spec, model_version=model.version, params=params,
            seed=(base_seed + variant - 1) % (SEED.maximum + 1),
            template_version=request.template_version, style_version=request.style_version,
            variables=request.variables if request.template_version else {},
        )
    return article


def _model(workspace, request: DraftRequest):
    """The writer's pick, else the style's default model, else the workspace default."""
    style_model = request.style_version.default_model_name if request.style_version else ""
    try:
        return model_resolve(workspace, request.model or style_model)
    except UnknownModel as exc:
        message = str(exc) if request.model else f"The style's model is not available: {exc} Pick a model."
        raise DraftError({"model": message}) from None


def _check_model_still_there(generation: Generation) -> None:
    """Regenerate and continue reuse the generation's model: only while the workspace has it."""
    if generation.model_version_id is None and generation.model_name != default_choice().spec:
        raise DraftError({"model": "The model this was written with was removed from the workspace's "
                                   "models; start a new draft with another model."})


def _workspace_of(version) -> int:
    owner = getattr(version, "template", None) or getattr(version, "profile", None)
    return owner.workspace_id


@transaction.atomic
def generation_cancel(*, generation: Generation) -> Generation:
    """A queued generation is cancelled at once; a running one stops within a second."""
    if generation.status == Generation.Status.QUEUED:
        Generation.objects.filter(pk=generation.pk, status=Generation.Status.QUEUED).update(
            status=Generation.Status.CANCELLED, finish_reason="cancelled", finished_at=timezone.now(), cancel_requested=True
        )
    else:
        Generation.objects.filter(pk=generation.pk).update(cancel_requested=True)
    generation.refresh_from_db()
    return generation


@transaction.atomic
def generation_again(*, generation: Generation, user, kind: str = "regenerate") -> Generation:
    """A new run of the same request (retry or regenerate), with a new seed unless retrying."""
    if kind not in ("retry", "regenerate"):
        raise ValueError(kind)
    _check_capacity(user, 1)
    _check_model_still_there(generation)
    seed = generation.seed if kind == "retry" else _new_seed()
    again = _new_generation(
        article=generation.article, user=user, variant=generation.variant, kind=kind,
        prompt=generation.prompt, system_prompt=generation.system_prompt, model=generation.model_name,
        model_version=generation.model_version, params=generation.params, seed=seed, template_version=generation.template_version,
        style_version=generation.style_version, variables=generation.variables, prefix=generation.prefix,
        prefill=generation.prefill,  # a continued run's new take goes on from the same text
    )
    if kind == "retry":
        _continue_from_stored_text(again, generation)
    return again


def _continue_from_stored_text(run: Generation, earlier: Generation) -> None:
    """A retry goes on from the earlier run's stored text instead of starting over.

    The model gets the same conversation with that text as the beginning of its own answer
    (`prefill`, no new user turn), the page shows it before the new text (`prefix`), and only
    the tokens not yet written are allowed (`max_new_tokens` less the earlier run's tokens).
    Saved in the same transaction as the new run, before its task is enqueued on commit.
    """
    if not earlier.text:
        run.prefill = earlier.prefill
        run.save(update_fields=["prefill"])
        return
    from generation.streaming import GenerationParams

    params = dict(earlier.params)
    if earlier.completion_tokens:
        allowed = params.get("max_new_tokens", GenerationParams().max_new_tokens)
        params["max_new_tokens"] = max(1, allowed - earlier.completion_tokens)
        if params.get("min_new_tokens"):
            params["min_new_tokens"] = min(params["max_new_tokens"], max(0, params["min_new_tokens"] - earlier.completion_tokens))
    run.prefix = earlier.prefix + earlier.text
    run.prefill = earlier.prefill + earlier.text
    run.params = params
    run.save(update_fields=["prefix", "prefill", "params"])


@transaction.atomic
def generation_continue(*, generation: Generation, user) -> Generation:
    """A new run that goes on with this one's text as the model's own unfinished answer.

    The same conversation (prompt and system prompt, no new user turn) with the whole text so
    far as the beginning of the assistant's answer (`prefill`); the page shows that text before
    the new one (`prefix`). The new tokens are decoded after the end of the prefill, so a token
    that starts with a space keeps it: `prefix + text` joins as the model wrote it. A fresh
    length budget, and the model may not end its answer before CONTINUE_MIN_NEW_TOKENS.
    """
    from generation.streaming import GenerationParams

    _check_capacity(user, 1)
    _check_model_still_there(generation)
    params = dict(generation.params)
    limit = params.get("max_new_tokens", GenerationParams().max_new_tokens)
    params["min_new_tokens"] = min(limit, max(params.get("min_new_tokens") or 0, CONTINUE_MIN_NEW_TOKENS))
    return _new_generation(
        article=generation.article, user=user, variant=generation.variant, kind="continue",
        prompt=generation.prompt, system_prompt=generation.system_prompt, model=generation.model_name,
        model_version=generation.model_version, params=params, seed=_new_seed(), template_version=generation.template_version,
        style_version=generation.style_version, variables=generation.variables,
        prefix=generation.prefix + generation.text, prefill=generation.prefill + generation.text,
    )


@transaction.atomic
def article_choose(*, article: Article, generation: Generation, membership) -> Article:
    """'Use this one': the variant's full text becomes the article's next revision (machine-written)."""
    from articles.revisions import article_save

    if generation.article_id != article.pk:
        raise DraftError({"generation": "That generation belongs to another article."})
    if generation.kind == SUGGESTION:
        raise DraftError({"generation": "That is a suggestion for one passage: accept it in the editor."})
    article_save(article=article, membership=membership, title=article.title, body=generation.prefix + generation.text,
                 base_revision=article.revision, note=f"Used variant {generation.variant}", generation=generation)
    article.chosen = generation
    article.save(update_fields=["chosen", "updated_at"])
    return article


INTERRUPTED_ERROR = "The worker stopped while writing; the text so far is kept. Retry to continue it."


def generations_sweep_stale(*, older_than_s: float | None = None, ids=None) -> int:
    """Running generations whose worker stopped beating are marked interrupted (text kept).

    Each one's state goes to its listeners at once, with the stored text as the authoritative
    text (pieces published after the last persist are lost with the worker). `ids` limits the
    sweep to those generations. Safe to run from several processes at once: a row is taken by
    one conditional update, so it is marked and announced once.
    """
    older_than_s = older_than_s or settings.INKSTONE_GENERATION_STALE_SECONDS
    cutoff = timezone.now() - timedelta(seconds=older_than_s)
    stale = Generation.objects.filter(status=Generation.Status.RUNNING, heartbeat_at__lt=cutoff)
    if ids is not None:
        stale = stale.filter(pk__in=ids)
    swept = 0
    for pk in stale.values_list("pk", flat=True):
        if stale.filter(pk=pk).update(status=Generation.Status.INTERRUPTED, finish_reason="interrupted",
                                      finished_at=timezone.now(), error=INTERRUPTED_ERROR):
            swept += 1
            transaction.on_commit(lambda pk=pk: publish(pk, state_event(Generation.objects.get(pk=pk))))
    return swept


def generations_requeue_orphans(*, older_than_s: float | None = None) -> int:
    """Queued generations whose task a dead worker had pulled get a new task.

    The ORM broker hides a pulled task for `retry` (31 min) seconds; when its worker died, the
    generation would wait that long. So when nothing is running and the generation queue has no
    ready task, generations queued for longer than the stale threshold are enqueued again. A
    duplicate task is harmless: `claim_batch` claims atomically.
    """
    from django_q.brokers import get_broker

    if Generation.objects.filter(status=Generation.Status.RUNNING).exists():
        return 0  # a live worker is busy (it may hold the queued ones' tasks for later)
    if get_broker("generation").queue_size():
        return 0  # a ready task is waiting for a worker: nothing is hidden
    older_than_s = older_than_s or settings.INKSTONE_GENERATION_STALE_SECONDS
    cutoff = timezone.now() - timedelta(seconds=older_than_s)
    orphans = Generation.objects.filter(status=Generation.Status.QUEUED, cancel_requested=False,
                                        created_at__lt=cutoff).order_by("created_at")
    count = 0
    for generation in orphans:
        _enqueue(generation)
        count += 1
    return count


def generations_heal() -> None:
    """Periodic job of every worker cluster (settings.WORKER_PERIODIC_JOBS): running generations
    whose worker died are marked interrupted, queued ones it held are queued again."""
    swept, requeued = generations_sweep_stale(), generations_requeue_orphans()
    if swept or requeued:
        logger.info("generations: %d interrupted, %d queued again", swept, requeued)
