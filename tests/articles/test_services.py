import pytest
from django_q.models import OrmQ

from articles import services
from articles.models import Article, Generation
from prompts.services import prompt_create
from styles.services import style_create


@pytest.fixture
def template(workspace, writer):
    return prompt_create(workspace=workspace, user=writer, name="Announcement", category="free",
                         body="Announce {product} to {audience}.", variables=[{"name": "product"}, {"name": "audience", "default": "campers"}])


@pytest.fixture
def style(workspace):
    return style_create(workspace=workspace, user=None, name="Sunny", voice="Bright.",
                        default_params={"temperature": 0.5, "max_new_tokens": 64})


def test_draft_from_template_makes_one_queued_generation_per_variant(workspace, writer, template, style, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        article = services.draft_create(workspace=workspace, user=writer, request=services.DraftRequest(
            template_version=template.current, variables={"product": "the Sun Lantern"}, style_version=style.current,
            variants=3, seed=7))
    generations = list(article.generations.order_by("variant"))
    assert [g.variant for g in generations] == [1, 2, 3]
    assert [g.seed for g in generations] == [7, 8, 9]
    first = generations[0]
    assert first.status == "queued" and first.prompt == "Announce the Sun Lantern to campers."
    assert first.system_prompt.startswith("You are a writer for Sunny.")
    assert first.params["temperature"] == 0.5 and first.params["max_new_tokens"] == 64
    assert (first.template_version, first.style_version) == (template.current, style.current)
    assert article.title == "Announcement" and article.source == "template"
    assert OrmQ.objects.count() == 3  # one task per generation, enqueued after commit


def test_missing_variable_is_named_and_nothing_is_stored(workspace, writer, template):
    with pytest.raises(services.DraftError) as excinfo:
        services.draft_create(workspace=workspace, user=writer, request=services.DraftRequest(template_version=template.current))
    assert excinfo.value.errors == {"variables.product": "Product is required."}
    assert not Article.objects.exists() and not Generation.objects.exists() and not OrmQ.objects.exists()


@pytest.mark.parametrize(("request_kwargs", "field", "message"), [
    ({"prompt": "Hi", "variants": 5}, "variants", "between 1 and 4"),
    ({}, "prompt", "Start from a template"),
    ({"rewrite_text": "Old text"}, "style", "Pick the style"),
    ({"prompt": "Hi", "params": {"temperature": 9}}, "params", "temperature must be between"),
])
def test_bad_drafts_are_refused(workspace, writer, request_kwargs, field, message):
    with pytest.raises(services.DraftError) as excinfo:
        services.draft_create(workspace=workspace, user=writer, request=services.DraftRequest(**request_kwargs))
    assert message in excinfo.value.errors[field]


def test_rate_limit_has_a_clear_message(workspace, writer, settings):
    settings.INKSTONE_GENERATIONS_PER_MINUTE = 2
    services.draft_create(workspace=workspace, user=writer, request=services.DraftRequest(prompt="One", variants=2))
    with pytest.raises(services.RateLimited, match="You started 2 generations in the last minute and asked for 1 more; the limit is 2 per minute"):
        services.draft_create(workspace=workspace, user=writer, request=services.DraftRequest(prompt="Two"))


def test_template_of_another_workspace_is_refused(workspace, other_workspace, writer):
    foreign = prompt_create(workspace=other_workspace, user=None, name="Theirs", category="free", body="x", variables=[])
    with pytest.raises(services.DraftError, match="Not found in this workspace"):
        services.draft_create(workspace=workspace, user=writer, request=services.DraftRequest(template_version=foreign.current))


def test_cancel_a_queued_generation_and_sweep_stale_running_ones(workspace, writer):
    from datetime import timedelta

    from django.utils import timezone

    article = services.draft_create(workspace=workspace, user=writer, request=services.DraftRequest(prompt="Hi", variants=2))
    first, second = article.generations.order_by("variant")
    assert services.generation_cancel(generation=first).status == "cancelled"
    Generation.objects.filter(pk=second.pk).update(status="running", text="Half a sen", seq=4,
                                                     heartbeat_at=timezone.now() - timedelta(seconds=60))
    assert services.generations_sweep_stale() == 1
    second.refresh_from_db()
    assert second.status == "interrupted" and second.text == "Half a sen" and "Retry" in second.error
    retry = services.generation_again(generation=second, user=writer, kind="retry")
    assert (retry.status, retry.seed, retry.variant, retry.kind) == ("queued", second.seed, 2, "retry")


@pytest.mark.django_db(transaction=True)
def test_generate_command_prints_the_text_as_it_is_written(workspace, writer, tiny_model, capsys):
    import threading
    import time

    from django.core.management import call_command

    from articles.runner import run_generation

    def worker():  # stands in for the queue: run the generation once it exists
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not Generation.objects.exists():
            time.sleep(0.05)
        time.sleep(0.3)
        run_generation(Generation.objects.get().pk)

    thread = threading.Thread(target=worker)
    thread.start()
    call_command("generate", "--user", "wendy", "--prompt", "Tell me about lanterns.", "--max-new-tokens", "20", "--seed", "3")
    thread.join()
    generation = Generation.objects.get()
    captured = capsys.readouterr()
    assert generation.status == "completed" and generation.text
    assert captured.out.strip() == generation.text.strip()
    assert "completed · 20 tokens" in captured.err


def test_rewrite_an_existing_article_in_another_style(client, workspace, writer):
    from articles.models import Article

    source = Article.objects.create(workspace=workspace, title="Old post", body="Our lantern is bright.", created_by=writer)
    style = style_create(workspace=workspace, user=None, name="Pirate", voice="Arr.")
    client.force_login(writer)
    response = client.post("/write/new/", {"source": "rewrite", "rewrite_article": source.pk, "style": style.pk,
                                           "model": "default", "variants": 1})
    article = Article.objects.exclude(pk=source.pk).get()
    assert response.url == article.get_absolute_url()
    generation = article.generations.get()
    assert article.source == "rewrite" and "Our lantern is bright." in generation.prompt
    assert generation.system_prompt.startswith("You are a writer for Pirate.")


@pytest.mark.django_db(transaction=True)
def test_a_swept_generation_tells_its_listeners_with_the_stored_text(workspace, writer):
    from datetime import timedelta

    from django.utils import timezone

    from tests.articles.conftest import collect_group

    generation = services.draft_create(workspace=workspace, user=writer, request=services.DraftRequest(prompt="Hi")).generations.get()
    Generation.objects.filter(pk=generation.pk).update(status="running", text="Half a sen", seq=4,
                                                     heartbeat_at=timezone.now() - timedelta(seconds=60))
    receive, close = collect_group(generation.group_name())
    try:
        assert services.generations_sweep_stale() == 1
        assert services.generations_sweep_stale() == 0  # marked and announced once
        events = receive()
    finally:
        close()
    assert [(e["type"], e["status"], e["text"], e["seq"]) for e in events] == [("generation.state", "interrupted", "Half a sen", 4)]


def test_retry_goes_on_from_the_stored_text_with_the_tokens_left(workspace, writer):
    article = services.draft_create(workspace=workspace, user=writer, request=services.DraftRequest(
        prompt="Hi", params={"max_new_tokens": 100, "min_new_tokens": 50}))
    first = article.generations.get()
    Generation.objects.filter(pk=first.pk).update(status="interrupted", text="Once upon", seq=2, completion_tokens=30)
    first.refresh_from_db()
    retry = services.generation_again(generation=first, user=writer, kind="retry")
    assert (retry.prefix, retry.prefill, retry.prompt, retry.seed) == ("Once upon", "Once upon", "Hi", first.seed)
    assert retry.params == {"max_new_tokens": 70, "min_new_tokens": 20}

    Generation.objects.filter(pk=retry.pk).update(status="failed", text=" a time", seq=1, completion_tokens=3)
    retry.refresh_from_db()
    again = services.generation_again(generation=retry, user=writer, kind="retry")
    assert (again.prefix, again.prefill, again.params["max_new_tokens"]) == ("Once upon a time", "Once upon a time", 67)


def test_continue_writing_goes_on_with_the_text_as_the_models_own_answer(workspace, writer):
    article = services.draft_create(workspace=workspace, user=writer, request=services.DraftRequest(
        prompt="Hi", params={"max_new_tokens": 100}))
    first = article.generations.get()
    Generation.objects.filter(pk=first.pk).update(status="completed", text="Chapter one.", seq=2, completion_tokens=80)
    first.refresh_from_db()
    continued = services.generation_continue(generation=first, user=writer)
    # the same conversation, no new user turn; the text so far starts the assistant's answer
    assert (continued.prompt, continued.system_prompt) == (first.prompt, first.system_prompt)
    assert (continued.prefix, continued.prefill, continued.kind) == ("Chapter one.", "Chapter one.", "continue")
    # a fresh length budget, and the model may not end its answer straight away
    assert continued.params == {"max_new_tokens": 100, "min_new_tokens": services.CONTINUE_MIN_NEW_TOKENS}

    Generation.objects.filter(pk=continued.pk).update(status="completed", text=" Chapter two.", seq=2)
    continued.refresh_from_db()
    again = services.generation_continue(generation=continued, user=writer)
    assert again.prefix == again.prefill == "Chapter one. Chapter two."
    # regenerating a continuation writes another continuation of the same text, not a fresh start
    other = services.generation_again(generation=continued, user=writer, kind="regenerate")
    assert (other.prompt, other.prefix, other.prefill) == ("Hi", "Chapter one.", "Chapter one.")


def test_retry_of_continue_writing_prefills_the_whole_answer_so_far(workspace, writer):
    article = services.draft_create(workspace=workspace, user=writer, request=services.DraftRequest(prompt="Hi"))
    first = article.generations.get()
    Generation.objects.filter(pk=first.pk).update(status="completed", text="Chapter one.", seq=2)
    first.refresh_from_db()
    continued = services.generation_continue(generation=first, user=writer)
    Generation.objects.filter(pk=continued.pk).update(status="interrupted", text=" Chapter", seq=1, completion_tokens=2)
    continued.refresh_from_db()
    retry = services.generation_again(generation=continued, user=writer, kind="retry")
    assert retry.prefix == retry.prefill == "Chapter one. Chapter"
    assert retry.prompt == continued.prompt == "Hi"


@pytest.mark.parametrize(("variable", "title", "expected"), [
    ({"name": "title"}, "", "Ten ways to save water"),
    ({"name": "headline", "label": "Title"}, "", "Ten ways to save water"),
    ({"name": "Title"}, "My own title", "My own title"),
    ({"name": "subject"}, "", "Blog post"),
])
def test_the_template_title_variable_names_the_article(workspace, writer, variable, title, expected):
    template = prompt_create(workspace=workspace, user=writer, name="Blog post", category="free",
                             body=f"Write {{{variable['name']}}}.", variables=[variable])
    article = services.draft_create(workspace=workspace, user=writer, request=services.DraftRequest(
        title=title, template_version=template.current, variables={variable["name"]: "Ten ways to save water"}))
    assert article.title == expected


def test_regenerate_starts_over(workspace, writer):
    first = services.draft_create(workspace=workspace, user=writer, request=services.DraftRequest(prompt="Hi")).generations.get()
    Generation.objects.filter(pk=first.pk).update(status="interrupted", text="Once upon", completion_tokens=3)
    first.refresh_from_db()
    again = services.generation_again(generation=first, user=writer, kind="regenerate")
    assert (again.prefix, again.prefill, again.params) == ("", "", first.params)


def _ready_tasks() -> int:
    from django_q.brokers import get_broker

    return get_broker("generation").queue_size()


@pytest.mark.django_db(transaction=True)
def test_queued_generations_whose_task_a_dead_worker_holds_are_queued_again_once(workspace, writer, settings):
    from datetime import timedelta

    from django.utils import timezone

    article = services.draft_create(workspace=workspace, user=writer, request=services.DraftRequest(prompt="Hi", variants=2))
    assert _ready_tasks() == 2
    # a worker pulled both tasks (locked for `retry` seconds) and died
    OrmQ.objects.update(lock=timezone.now() + timedelta(seconds=1860))
    assert services.generations_requeue_orphans() == 0  # not yet: they are younger than the threshold
    Generation.objects.update(created_at=timezone.now() - timedelta(seconds=settings.INKSTONE_GENERATION_STALE_SECONDS + 1))
    first, second = article.generations.order_by("variant")
    Generation.objects.filter(pk=first.pk).update(status="running", heartbeat_at=timezone.now())
    assert services.generations_requeue_orphans() == 0  # a live worker is busy: it may hold them for later

    Generation.objects.filter(pk=first.pk).update(status="completed")
    assert services.generations_requeue_orphans() == 1
    assert _ready_tasks() == 1
    assert services.generations_requeue_orphans() == 0  # its new task is ready: not again
    task = OrmQ.objects.filter(lock__lte=timezone.now()).get()
    assert task.task["args"] == (second.pk,)
