"""The permission matrix, generated from the URL configuration.

Every page, API route and WebSocket route is requested by an anonymous visitor, a writer, an
editor, an admin of the workspace, and an admin of another workspace; each answer must match the
route's rule. A route without a rule fails `test_every_route_has_a_rule`, so a new route cannot
ship without someone deciding who may use it.

The workspace's objects are created by another writer ("author"), so rules that let writers
act only on what they created (prompts, drafts) show up as editor-level here.
"""

from dataclasses import dataclass, field

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

ACTORS = ["anonymous", "writer", "editor", "admin", "outsider"]
RANK = {"writer": 1, "editor": 2, "admin": 3}


@dataclass(frozen=True)
class Rule:
    """`lowest`: the lowest role allowed (None: anyone, signed in or not; "staff": Django admin).
    `scoped`: the path names an object of the workspace (another workspace's admin gets 404)."""

    path: str  # formatted with the objects, e.g. "/prompts/{prompt}/"
    lowest: str | None = "writer"
    method: str = "GET"
    scoped: bool = False
    data: dict = field(default_factory=dict)
    api: bool = False
    multipart: bool = False
    health: bool = False  # answers 503 while a part is down: still an answer, not a refusal
    lands_on_login: bool = False  # its answer is the login page (logging out)


def R(path, lowest="writer", **kw):
    return Rule(path, lowest, scoped="{" in path and "{workspace" not in path, **kw)


def API(path, lowest="writer", **kw):
    return Rule(path, lowest, scoped="{" in path, api=True, **kw)


RULES: dict[str, Rule] = {
    # public
    "login": R("/accounts/login/", None),
    "healthz": R("/healthz", None, health=True),
    "favicon": R("/favicon.ico", None),
    "logout": R("/accounts/logout/", None, method="POST", lands_on_login=True),
    # signed-in, any role
    "dashboard": R("/"),
    "section": R("/s/review/"),
    "profile": R("/accounts/profile/"),
    "password_change": R("/accounts/password/"),
    "password_change_done": R("/accounts/password/done/"),
    "workspace_switch": Rule("/accounts/workspaces/switch/", "writer", method="POST", scoped=True, data={"workspace": "{workspace}"}),
    "members": R("/accounts/workspace/members/", "admin"),
    # prompts (objects by "author": changing them is for editors)
    "prompt_list": R("/prompts/"),
    "prompt_create": R("/prompts/new/"),
    "prompt_preview": R("/prompts/preview/", method="POST", data={"body": "Hi there"}),
    "prompt_variable_rows": R("/prompts/variable-rows/", method="POST"),
    "prompt_detail": R("/prompts/{prompt}/"),
    "prompt_edit": R("/prompts/{prompt}/edit/", "editor"),
    "prompt_diff": R("/prompts/{prompt}/diff/"),
    "prompt_delete": R("/prompts/{prompt}/delete/", "editor"),
    "prompt_restore": R("/prompts/{prompt}/versions/1/restore/", "editor", method="POST"),
    # styles
    "style_list": R("/styles/"),
    "style_create": R("/styles/new/", "editor"),
    "style_system_prompt_preview": R("/styles/system-prompt/", "editor", method="POST", data={"name": "X"}),
    "style_detail": R("/styles/{style}/"),
    "style_edit": R("/styles/{style}/edit/", "editor"),
    "style_diff": R("/styles/{style}/diff/"),
    "style_delete": R("/styles/{style}/delete/", "editor"),
    "style_restore": R("/styles/{style}/versions/1/restore/", "editor", method="POST"),
    # datasets
    "corpora:dataset_list": R("/datasets/"),
    "corpora:dataset_create": R("/datasets/new/", "admin"),
    "corpora:csv_columns": R("/datasets/csv-columns/", "admin", method="POST"),
    "corpora:validate_name": R("/datasets/validate-name/", "admin", method="POST", data={"name": "New"}),
    "corpora:dataset_detail": R("/datasets/{dataset}/"),
    "corpora:dataset_edit": R("/datasets/{dataset}/edit/", "admin"),
    "corpora:dataset_delete": R("/datasets/{dataset}/delete/", "admin"),
    "corpora:dataset_add_files": R("/datasets/{dataset}/upload/", "admin"),
    "corpora:version_detail": R("/datasets/{dataset}/v1/"),
    "corpora:version_records": R("/datasets/{dataset}/v1/records/"),
    "corpora:upload_detail": R("/datasets/uploads/{upload}/"),
    "corpora:upload_status": R("/datasets/uploads/{upload}/status/"),
    "corpora:version_dedupe": R("/datasets/{dataset}/v1/dedupe/", "admin", method="POST"),
    "corpora:version_split": R("/datasets/{dataset}/v1/split/", "admin", method="POST", data={"validation_fraction": "0.5", "seed": "1"}),
    "corpora:version_export": R("/datasets/{dataset}/v1/export/"),
    "corpora:articles_to_dataset": R("/datasets/add-articles/", "editor"),
    # drafts (the article is the author's: steering it is for editors)
    "write": R("/write/"),
    "draft_new": R("/write/new/"),
    "draft_template_fields": R("/write/template-fields/"),
    "article_detail": R("/write/articles/{article}/"),
    "article_choose": R("/write/articles/{article}/use/{generation}/", "editor", method="POST"),
    # the editor: everyone reads (a read-only editor shows why); saving is the writer's own or an editor's
    "article_edit": R("/write/articles/{article}/edit/"),
    "article_preview": R("/write/articles/{article}/preview/", method="POST", data={"body": "Hi *there*"}),
    "article_save": R("/write/articles/{article}/save/", "editor", method="POST"),
    "article_revisions": R("/write/articles/{article}/revisions/"),
    "article_revisions_panel": R("/write/articles/{article}/revisions/panel/"),
    "article_restore": R("/write/articles/{article}/revisions/1/restore/", "editor", method="POST"),
    "article_comments": R("/write/articles/{article}/comments/"),
    "article_comment_add": R("/write/articles/{article}/comments/add/", method="POST", data={"body": "Looks good."}),
    "suggestion_create": R("/write/articles/{article}/suggestions/", "editor", method="POST"),
    "suggestion_accept": R("/write/suggestions/{generation}/accept/", "editor", method="POST"),
    "suggestion_discard": R("/write/suggestions/{generation}/discard/", "editor", method="POST"),
    "generation_cancel": R("/write/generations/{generation}/cancel/", "editor", method="POST"),
    "generation_again": R("/write/generations/{generation}/regenerate/", "editor", method="POST"),
    # workflow (submitting someone else's article is for editors; the draft has no text yet: 409)
    "article_transition": R("/write/articles/{article}/transition/submit/", "editor", method="POST"),
    "my_drafts": R("/write/mine/"),
    "review_queue": R("/review/"),  # offered to editors in the navigation; reading it is harmless
    # models
    "catalog:model_list": R("/models/"),
    "catalog:model_create": R("/models/new/", "admin"),
    "catalog:model_compare": R("/models/compare/"),
    "catalog:model_promote": R("/models/{model}/promote/", "admin", method="POST"),
    "catalog:model_download": R("/models/{model}/download/", "admin"),
    "catalog:model_detail": R("/models/{model}/"),
    "catalog:model_delete": R("/models/{model}/delete/", "admin"),
    # training (admins start and steer runs; everyone watches them)
    "training:run_list": R("/training/"),
    "training:run_new": R("/training/new/", "admin"),
    "training:run_estimate": R("/training/estimate/", "admin"),
    "training:run_detail": R("/training/{run}/"),
    "training:run_cancel": R("/training/{run}/cancel/", "admin", method="POST"),
    "training:run_resume": R("/training/{run}/resume/", "admin", method="POST"),
    # publishing: public pages and feeds (anyone; the world's published article), members' exports
    "publishing_index": R("/p/{workspace_slug}/", None),
    "publishing_article": R("/p/{workspace_slug}/{published_slug}/", None),
    "publishing_atom": R("/p/{workspace_slug}/feed/", None),
    "publishing_rss": R("/p/{workspace_slug}/rss/", None),
    "publishing_list": R("/write/published/"),
    "publishing_export": R("/write/articles/{article}/export/docx/"),
    "publishing_print": R("/write/articles/{article}/print/"),
    "publishing_schedule": R("/write/articles/{article}/schedule/", "editor", method="POST", data={"action": "cancel"}),
    # API
    "workspace-list": API("/api/workspaces/"),
    "workspace-detail": Rule("/api/workspaces/{workspace}/", "writer", scoped=True, api=True),
    "member-list": API("/api/members/", "admin"),
    "api-prompt-list": API("/api/prompts/", method="POST", data={}),
    "api-prompt-detail": API("/api/prompts/{prompt}/", "editor", method="PATCH", data={}),
    "api-prompt-versions": API("/api/prompts/{prompt}/versions/"),
    "api-prompt-render": API("/api/prompts/{prompt}/render/", method="POST", data={}),
    "api-style-list": API("/api/styles/", "editor", method="POST", data={}),
    "api-style-detail": API("/api/styles/{style}/", "editor", method="DELETE"),
    "api-dataset-list": API("/api/datasets/", "admin", method="POST", data={}, multipart=True),
    "api-dataset-detail": API("/api/datasets/{dataset}/", "admin", method="PATCH", data={}),
    "api-dataset-upload": API("/api/datasets/uploads/{upload}/"),
    "api-dataset-records": API("/api/datasets/{dataset}/records/"),
    "api-dataset-export": API("/api/datasets/{dataset}/export/"),
    "api-dataset-files": API("/api/datasets/{dataset}/files/", "admin", method="POST", data={}, multipart=True),
    "api-dataset-dedupe": API("/api/datasets/{dataset}/dedupe/", "admin", method="POST", data={}),
    "api-dataset-split": API("/api/datasets/{dataset}/split/", "admin", method="POST", data={}),
    "api-dataset-from-articles": API("/api/datasets/{dataset}/versions/from-articles/", "editor", method="POST",
                                     data={"articles": []}),
    "api-generation-create": API("/api/generations/", method="POST", data={"prompt": "Hi"}),
    "api-generation-detail": API("/api/generations/{generation}/"),
    "api-generation-cancel": API("/api/generations/{generation}/cancel/", "editor", method="POST"),
    # articles (the author's: saving and moving it is for editors; anyone comments)
    "api-article-list": API("/api/articles/"),
    "api-article-detail": API("/api/articles/{article}/", "editor", method="PATCH", data={"body": "Edited.", "revision": 1}),
    "api-article-transition": API("/api/articles/{article}/transition/", "editor", method="POST", data={"action": "archive"}),
    "api-article-revisions": API("/api/articles/{article}/revisions/"),
    "api-article-revision": API("/api/articles/{article}/revisions/1/"),
    "api-article-comments": API("/api/articles/{article}/comments/", method="POST", data={"body": "Nice."}),
    "api-model-list": API("/api/models/"),
    "api-model-detail": API("/api/models/{model}/", "admin", method="DELETE"),
    "api-training-list": API("/api/trainings/"),
    "api-training-estimate": API("/api/trainings/estimate/", "admin", method="POST", data={}),
    "api-training-detail": API("/api/trainings/{run}/"),
    "api-training-cancel": API("/api/trainings/{run}/cancel/", "admin", method="POST"),
    "api-training-resume": API("/api/trainings/{run}/resume/", "admin", method="POST"),
    "api-model-promote": API("/api/models/{model}/promote/", "admin", method="POST", data={"reason": "Trying it."}),
    "schema": API("/api/schema/", None),  # the API's description is public; its data is not
    "swagger-ui": API("/api/docs/", None),
}
# Routes without a name: the Django admin (staff only, its own login) and the API's 404.
UNNAMED = {
    "admin": Rule("/admin/", "staff"),
    "api_not_found": Rule("/api/no-such-thing/", "nobody", api=True),
}
WEBSOCKETS = {
    "ws/generations/<id:generation_id>/": "/ws/generations/{generation}/",
    "ws/articles/<id:article_id>/": "/ws/articles/{article}/",
    "ws/trainings/<id:run_id>/": "/ws/trainings/{run}/",
    "ws/trainings/<id:run_id>/html/": "/ws/trainings/{run}/html/",
}


def url_names():
    """(name or callback name, pattern) of every HTTP route."""

    def walk(resolver, prefix="", namespace=None):
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                ns = ":".join(filter(None, [namespace, entry.namespace])) or None
                if entry.namespace == "admin":
                    yield "admin", "admin/"
                    continue
                yield from walk(entry, prefix + str(entry.pattern), ns)
            elif isinstance(entry, URLPattern):
                name = ":".join(filter(None, [namespace, entry.name])) if entry.name else entry.callback.__name__
                yield name, prefix + str(entry.pattern)

    return list(walk(get_resolver()))


def test_every_route_has_a_rule():
    from config.routing import websocket_urlpatterns

    missing = sorted({name for name, _ in url_names()} - set(RULES) - set(UNNAMED))
    assert not missing, f"routes without a permission rule in tests/test_permission_matrix.py: {missing}"
    ws_missing = sorted({str(p.pattern) for p in websocket_urlpatterns} - set(WEBSOCKETS))
    assert not ws_missing, f"WebSocket routes without a rule: {ws_missing}"


@pytest.fixture
def world(db, make_member, workspace, other_workspace, settings, tmp_path):
    """A workspace full of objects made by a writer ("author"), its members, and an outsider."""
    from articles import services as drafting
    from articles.revisions import article_save
    from catalog.models import ModelVersion
    from corpora.services import dataset_create_from_upload
    from prompts.services import prompt_create
    from styles.services import style_create

    settings.MEDIA_ROOT = tmp_path / "media"
    author = make_member("writer", workspace, username="author")
    users = {role: make_member(role, workspace, username=role) for role in ("writer", "editor", "admin")}
    users["outsider"] = make_member("admin", other_workspace, username="outsider")
    prompt = prompt_create(workspace=workspace, user=author, name="Theirs", category="free", body="Hi {x}",
                           variables=[{"name": "x"}])
    style = style_create(workspace=workspace, user=author, name="House voice", voice="Warm.")
    version = dataset_create_from_upload(
        workspace=workspace, user=author, name="Examples",
        files=[SimpleUploadedFile("a.jsonl", b'{"text": "one"}\n{"text": "two"}\n{"text": "three"}\n')])
    waiting = dataset_create_from_upload(  # parsed by a worker later (none runs here)
        workspace=workspace, user=author, name="Waiting", background=True,
        files=[SimpleUploadedFile("b.jsonl", b'{"text": "four"}\n')])
    article = drafting.draft_create(workspace=workspace, user=author, request=drafting.DraftRequest(prompt="Hi"))
    article_save(article=article, membership=author.memberships.get(), title="Theirs", body="Some text.", base_revision=0)
    model = ModelVersion.objects.create(workspace=workspace, name="local", kind="model", source="/models/x", spec="/models/x")
    run = _training_run(workspace, author)
    published = _published_article(workspace, author)
    objects = {"workspace_slug": workspace.slug, "published_slug": published.slug, "workspace": workspace.pk, "prompt": prompt.pk, "style": style.pk, "dataset": version.dataset_id,
               "article": article.pk, "generation": article.generations.get().pk, "model": model.pk,
               "upload": waiting.upload.pk, "run": run.pk}
    return users, objects


def _published_article(workspace, author):
    from articles.models import Article

    return Article.objects.create(workspace=workspace, title="Out now", body="Read me.", created_by=author,
                                  status=Article.Status.PUBLISHED, slug="out-now")


def _training_run(workspace, author):
    from training.models import TrainingRun

    return TrainingRun.objects.create(workspace=workspace, name="theirs", created_by=author, dataset_label="Examples v1",
                                      base_label="default", base_spec="default", output_dir=f"/tmp/runs/{workspace.pk}")


def expected(rule: Rule, actor: str) -> str:
    if rule.lowest == "nobody":
        return "missing"
    if rule.lowest is None:
        return "allowed"
    if actor == "anonymous" or rule.lowest == "staff":
        return "login"
    if actor == "outsider":
        return "missing" if rule.scoped else "allowed"
    return "allowed" if RANK[actor] >= RANK[rule.lowest] else "forbidden"


def outcome(rule: Rule, response) -> str:
    code = response.status_code
    if code == 404:
        return "missing"
    if code == 403 and rule.lowest == "staff":
        return "login"
    if code == 403:
        return "forbidden"
    if code == 401 or (code == 302 and "/login/" in response.get("Location", "")):
        return "allowed" if rule.lands_on_login else "login"
    assert code != 405, f"{rule.method} {rule.path}: wrong method in the rule"
    if rule.health and code == 503:
        return "allowed"
    assert code < 500, f"{rule.method} {rule.path} answered {code}"
    return "allowed"


def request(rule: Rule, user, objects):
    path = rule.path.format(**objects)
    data = {k: v.format(**objects) if isinstance(v, str) else v for k, v in rule.data.items()}
    if rule.api:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        fmt = "multipart" if rule.multipart else "json"
        return getattr(client, rule.method.lower())(path, data or None, format=fmt) if rule.method != "GET" else client.get(path)
    from django.test import Client

    client = Client()
    if user is not None:
        client.force_login(user)
    return getattr(client, rule.method.lower())(path, data)


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("name", sorted(RULES) + sorted(UNNAMED))
def test_route_answers_each_actor_as_its_rule_says(world, name, actor):
    users, objects = world
    rule = RULES.get(name) or UNNAMED[name]
    response = request(rule, users.get(actor), objects)
    assert outcome(rule, response) == expected(rule, actor), (
        f"{rule.method} {rule.path.format(**objects)} as {actor}: {response.status_code} "
        f"{getattr(response, 'content', b'')[:300]!r}"
    )


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("route", sorted(WEBSOCKETS))
@pytest.mark.django_db(transaction=True)
def test_websocket_answers_each_actor(make_member, workspace, other_workspace, actor, route):
    from django.contrib.auth.models import AnonymousUser

    from articles import services as drafting
    from config.asgi import application

    author = make_member("writer", workspace, username="author")
    users = {role: make_member(role, workspace, username=role) for role in ("writer", "editor", "admin")}
    users["outsider"] = make_member("admin", other_workspace, username="outsider")
    article = drafting.draft_create(workspace=workspace, user=author, request=drafting.DraftRequest(prompt="Hi"))
    run = _training_run(workspace, author)
    path = WEBSOCKETS[route].format(article=article.pk, generation=article.generations.get().pk, run=run.pk)

    async def connect():
        from channels.routing import URLRouter

        from config.routing import websocket_urlpatterns

        communicator = WebsocketCommunicator(URLRouter(websocket_urlpatterns), path)
        communicator.scope["user"] = users.get(actor) or AnonymousUser()
        connected, code = await communicator.connect()
        if connected:
            code = None
            await communicator.disconnect()
        return connected, code

    assert application is not None
    connected, code = async_to_sync(connect)()
    want = {"anonymous": 4401, "outsider": 4403}.get(actor)
    assert (connected, code) == (want is None, want), (route, actor)
