"""Pages and the API ask accounts.permissions the same question and get the same answer, for each
action, role, and whether the object is the member's own."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.test import APIClient

from accounts.permissions import can

# action -> (page request, API request), each (method, path, data) with the objects' ids filled
# in. Destructive pages are asked with GET (their confirmation page makes the same check).
PAIRS = {
    "generations.cancel": (("post", "/write/generations/{generation}/cancel/", {}),
                           ("post", "/api/generations/{generation}/cancel/", {})),
    "drafts.view": (("get", "/write/articles/{article}/", {}), ("get", "/api/generations/{generation}/", {})),
    "drafts.create": (("post", "/write/new/", {"source": "free", "prompt": "Hi", "variants": 1, "model": ""}),
                      ("post", "/api/generations/", {"prompt": "Hi"})),
    "prompts.change": (("get", "/prompts/{prompt}/edit/", {}), ("patch", "/api/prompts/{prompt}/", {})),
    "prompts.delete": (("get", "/prompts/{prompt}/delete/", {}), ("delete", "/api/prompts/{prompt}/", {})),
    "styles.manage": (("get", "/styles/{style}/edit/", {}), ("patch", "/api/styles/{style}/", {})),
    "datasets.manage": (("get", "/datasets/{dataset}/edit/", {}), ("patch", "/api/datasets/{dataset}/", {})),
    "models.manage": (("get", "/models/{model}/delete/", {}), ("delete", "/api/models/{model}/", {})),
    "members.view": (("get", "/accounts/workspace/members/", {}), ("get", "/api/members/", {})),
}
# The decision each pair exercises (deleting a prompt is changing it).
ACTION_OF = {"prompts.delete": "prompts.change"}


def _objects(workspace, creator, settings, tmp_path):
    from articles import services as drafting
    from catalog.models import ModelVersion
    from corpora.services import dataset_create_from_upload
    from prompts.services import prompt_create
    from styles.services import style_create

    settings.MEDIA_ROOT = tmp_path / "media"
    prompt = prompt_create(workspace=workspace, user=creator, name="P", category="free", body="Hi", variables=[])
    style = style_create(workspace=workspace, user=creator, name="S", voice="Warm.")
    version = dataset_create_from_upload(workspace=workspace, user=creator, name="D",
                                         files=[SimpleUploadedFile("a.jsonl", b'{"text": "one"}\n')])
    article = drafting.draft_create(workspace=workspace, user=creator, request=drafting.DraftRequest(prompt="Hi"))
    model = ModelVersion.objects.create(workspace=workspace, name="m", kind="model", source="/m", spec="/m",
                                        created_by=creator)
    generation = article.generations.get()
    objs = {"prompt": prompt, "style": style, "dataset": version.dataset, "article": article,
            "generation": generation, "model": model}
    return objs, {name: obj.pk for name, obj in objs.items()}


def _allowed(response) -> bool:
    assert response.status_code < 500 and response.status_code != 405, response.status_code
    return response.status_code not in (401, 403, 404)


@pytest.mark.parametrize("own", [True, False], ids=["own", "someone-elses"])
@pytest.mark.parametrize("role", ["writer", "editor", "admin"])
@pytest.mark.parametrize("pair", sorted(PAIRS))
def test_page_and_api_give_the_same_answer_as_the_decision(make_member, workspace, settings, tmp_path, pair, role, own):
    actor = make_member(role, workspace, username="actor")
    creator = actor if own else make_member("writer", workspace, username="author")
    objs, ids = _objects(workspace, creator, settings, tmp_path)
    page_request, api_request = PAIRS[pair]
    action = ACTION_OF.get(pair, pair)
    target = {"generations.cancel": "generation", "drafts.view": "generation", "prompts.change": "prompt",
              "prompts.delete": "prompt", "styles.manage": "style", "datasets.manage": "dataset",
              "models.manage": "model"}.get(pair)
    decided = can(actor.memberships.get(), action, objs[target] if target else None)

    page = Client()
    page.force_login(actor)
    method, path, data = page_request
    page_allowed = _allowed(getattr(page, method)(path.format(**ids), data))

    api = APIClient()
    api.force_authenticate(actor)
    method, path, data = api_request
    api_allowed = _allowed(getattr(api, method)(path.format(**ids), data, format="json"))

    assert page_allowed == api_allowed == decided, (pair, role, own, page_allowed, api_allowed, decided)


def test_a_writer_cannot_cancel_someone_elses_draft_from_the_page(make_member, workspace, settings, tmp_path):
    """The reported case: the page let a writer cancel another writer's draft, the API did not."""
    from articles.models import Generation

    author = make_member("writer", workspace, username="author")
    intruder = make_member("writer", workspace, username="intruder")
    _, ids = _objects(workspace, author, settings, tmp_path)
    client = Client()
    client.force_login(intruder)
    response = client.post(f"/write/generations/{ids['generation']}/cancel/")
    assert response.status_code == 403
    assert Generation.objects.get(pk=ids["generation"]).status == "queued"


def test_the_draft_page_offers_only_the_buttons_the_decision_allows(make_member, workspace, settings, tmp_path):
    author = make_member("writer", workspace, username="author")
    colleague = make_member("writer", workspace, username="colleague")
    editor = make_member("editor", workspace, username="editor")
    _, ids = _objects(workspace, author, settings, tmp_path)
    page = f"/write/articles/{ids['article']}/"
    cancel = f"/write/generations/{ids['generation']}/cancel/".encode()
    for user, offered in ((author, True), (colleague, False), (editor, True)):
        client = Client()
        client.force_login(user)
        response = client.get(page)
        assert response.status_code == 200
        assert (cancel in response.content) is offered, user
