"""Closing the loop to training: approved articles added to a dataset as its next version."""

import pytest
from django.urls import reverse

from accounts.permissions import WorkspacePermissionDenied
from articles.models import Article
from core.errors import FieldErrors
from corpora import services
from corpora.models import DatasetVersion, Record
from corpora.services import UploadOptions
from tests.corpora.articles import PROMPT, SYSTEM, accepted, membership
from tests.corpora.conftest import jsonl, pairs, snapshot, upload

CHATS = [{"messages": [{"role": "user", "content": f"Hello {i}"}, {"role": "assistant", "content": f"Ahoy {i}!"}]}
         for i in range(3)]


@pytest.fixture
def editor(make_member, workspace):
    return make_member("editor", workspace, username="edna")


@pytest.fixture
def writer(make_member, workspace):
    return make_member("writer", workspace, username="wendy")


def dataset_of(workspace, user, rows, name="Voice"):
    return services.dataset_create_from_upload(
        workspace=workspace, user=user, name=name, files=[upload("v.jsonl", jsonl(rows))], options=UploadOptions(),
    ).dataset


def add(dataset, articles, user, note=""):
    return services.version_from_articles(dataset=dataset, articles=articles, membership=membership(user), note=note)


# --------------------------------------------------------------------------- service


def test_approved_articles_become_records_of_the_next_version_with_their_final_text_and_prompt(
        workspace, admin, editor, writer, media_root):
    dataset = dataset_of(workspace, admin, CHATS)
    one = accepted(workspace, writer, "Stormhold 30", "The Stormhold 30 laughs at squalls.")
    two = accepted(workspace, writer, "Galley Flame", status=Article.Status.PUBLISHED, system_prompt="")
    version = add(dataset, [one, two], editor, note="March batch")
    assert (version.number, version.parent.number, version.status) == (2, 1, DatasetVersion.Status.READY)
    assert version.note == "2 approved articles added to v1: March batch"
    assert version.created_by == editor
    records = list(version.records.order_by("index"))
    assert [r.data for r in records[:3]] == CHATS  # the parent's records are kept, in order
    assert [r.article for r in records] == [None, None, None, one, two]
    assert records[3].data == {"messages": [
        {"role": "system", "content": SYSTEM}, {"role": "user", "content": PROMPT},
        {"role": "assistant", "content": "The Stormhold 30 laughs at squalls."}]}
    assert [m["role"] for m in records[4].data["messages"]] == ["user", "assistant"]  # no style, no system message
    assert records[3].source == f"article {one.pk}: Stormhold 30" and records[3].kind == Record.Kind.CHAT
    assert all(r.token_count > 0 for r in records)
    assert version.record_count == 5 and version.token_count == sum(r.token_count for r in records)
    assert version.stats["kinds"] == {"chat": 5} and version.stats["from_articles"] == 2
    assert sum(b["count"] for b in version.stats["histogram"]) == 5
    assert dataset.versions.get(number=1).record_count == 3  # the parent is unchanged


def test_the_record_matches_the_datasets_shape(workspace, admin, editor, writer, media_root):
    article = accepted(workspace, writer, "Trail shoes")
    pairs_dataset = dataset_of(workspace, admin, pairs(2), name="Pairs")
    record = add(pairs_dataset, [article], editor).records.get(article=article)
    assert (record.kind, record.data) == ("instruction", {"prompt": PROMPT, "completion": article.body})
    texts = dataset_of(workspace, admin, [{"text": "A calm sea never made a skilled sailor."}], name="Texts")
    record = add(texts, [article], editor).records.get(article=article)
    assert (record.kind, record.data) == ("text", {"text": article.body})
    empty = services.dataset_update(dataset=dataset_of(workspace, admin, pairs(1), name="Fresh"))
    empty.versions.all().delete()
    first = add(empty, [article], editor)
    assert (first.number, first.parent, first.note) == (1, None, "1 approved article added")
    assert first.records.get().kind == "chat"


def test_the_text_editors_accepted_goes_in_with_the_chosen_variants_prompt(
        workspace, admin, editor, writer, media_root):
    """Through the review services: the writer uses a variant, the editor rewrites it and approves."""
    from articles import services as drafting
    from articles.models import Generation
    from articles.revisions import article_save
    from articles.workflow import article_transition

    article = drafting.draft_create(workspace=workspace, user=writer, request=drafting.DraftRequest(
        prompt="Describe a camping stove.", variants=2))
    first, second = article.generations.order_by("variant")
    Generation.objects.filter(pk__in=[first.pk, second.pk]).update(status="completed", text="Machine words.")
    second.refresh_from_db()
    drafting.article_choose(article=article, generation=second, membership=membership(writer))
    article_transition(article=article, action="submit", membership=membership(writer))
    article.refresh_from_db()
    article_save(article=article, membership=membership(editor), title=article.title,
                 body="The Galley Flame boils water in three minutes.", base_revision=article.revision)
    article_transition(article=article, action="approve", membership=membership(editor))
    version = add(dataset_of(workspace, admin, pairs(2)), [article.pk], editor)
    assert version.records.get(article=article).data == {
        "prompt": "Describe a camping stove.", "completion": "The Galley Flame boils water in three minutes."}


def test_without_a_chosen_variant_the_latest_revisions_generation_gave_the_prompt(
        workspace, admin, editor, writer, media_root):
    from articles.models import ArticleRevision

    article = accepted(workspace, writer, "Hand-picked", chosen=False, prompt="Old prompt.")
    later = article.generations.create(workspace=workspace, model_name="tiny", prompt="Newer prompt.", seed=2,
                                       status="completed", text="x")
    ArticleRevision.objects.create(article=article, number=1, title=article.title, body=article.body, generation=later)
    record = add(dataset_of(workspace, admin, pairs(1)), [article], editor).records.get(article=article)
    assert record.data["prompt"] == "Newer prompt."


def test_beside_a_validation_split_the_articles_train(workspace, admin, editor, writer, media_root):
    dataset = dataset_of(workspace, admin, pairs(10))
    split = services.version_split(version=dataset.versions.get(), user=admin, validation_fraction=0.2, seed=1)
    version = add(dataset, [accepted(workspace, writer, "Tent")], editor)
    assert version.parent == split
    assert version.stats["splits"] == {"train": 9, "validation": 2}


def test_later_versions_keep_the_article_links(workspace, admin, editor, writer, media_root):
    dataset = dataset_of(workspace, admin, pairs(4))
    article = accepted(workspace, writer, "Tarp")
    add(dataset, [article], editor)
    deduped = services.version_deduplicate(version=dataset.versions.get(number=2), user=admin)
    split = services.version_split(version=deduped, user=admin, validation_fraction=0.5, seed=3)
    added = services.dataset_add_files(dataset=dataset, user=admin, files=[upload("more.jsonl", jsonl(pairs(1, 9)))])
    for version in (deduped, split, added):
        assert list(version.records.exclude(article=None).values_list("article", flat=True)) == [article.pk]


def refused(dataset, articles, user, media_root) -> dict:
    before = snapshot(media_root)
    with pytest.raises(FieldErrors) as caught:
        add(dataset, articles, user)
    assert snapshot(media_root) == before, "nothing is stored"
    return caught.value.errors


def test_refusals_name_the_field_and_store_nothing(
        workspace, other_workspace, make_member, admin, editor, writer, media_root):
    dataset = dataset_of(workspace, admin, pairs(2))
    approved = accepted(workspace, writer, "Approved one")
    assert refused(dataset, [], editor, media_root) == {"articles": "Choose at least one approved article."}
    draft = accepted(workspace, writer, "Still a draft", status=Article.Status.DRAFT)
    in_review = accepted(workspace, writer, "Under review", status=Article.Status.IN_REVIEW)
    assert refused(dataset, [approved, draft, in_review], editor, media_root) == {"articles": (
        "Only approved or published articles can be added: “Still a draft” is draft; “Under review” is in review.")}
    theirs = accepted(other_workspace, make_member("editor", other_workspace), "Theirs")
    assert refused(dataset, [approved, theirs], editor, media_root) == {
        "articles": f"Not found in this workspace: article #{theirs.pk}."}
    assert refused(dataset, [approved, 10**12], editor, media_root) == {
        "articles": "Not found in this workspace: article #1000000000000."}
    their_dataset = dataset_of(other_workspace, None, pairs(1), name="Theirs")
    assert refused(their_dataset, [approved], editor, media_root) == {"dataset": "Not found in this workspace."}
    add(dataset, [approved], editor)
    again = accepted(workspace, writer, "New one")
    assert refused(dataset, [again, approved], editor, media_root) == {
        "articles": "Already in “Voice” v2: “Approved one”. Leave it out."}
    with pytest.raises(WorkspacePermissionDenied):
        add(dataset, [again], writer)
    assert not dataset.versions.filter(number=3).exists()


def test_an_article_without_any_prompt_cannot_pair_but_can_join_plain_texts(
        workspace, admin, editor, writer, media_root):
    typed = Article.objects.create(workspace=workspace, title="Typed by hand", body="Words.", status="approved")
    assert refused(dataset_of(workspace, admin, pairs(1)), [typed], editor, media_root) == {
        "articles": "“Typed by hand” has no prompt: no generation wrote it, so there is nothing to pair its text with."}
    texts = dataset_of(workspace, admin, [{"text": "Salt."}], name="Texts")
    assert add(texts, [typed], editor).records.get(article=typed).data == {"text": "Words."}


# --------------------------------------------------------------------------- pages


def test_an_editor_adds_ticked_articles_in_one_action_and_sees_where_records_came_from(
        client, workspace, admin, editor, writer, media_root):
    dataset = dataset_of(workspace, admin, pairs(2))
    one = accepted(workspace, writer, "Stormhold 30")
    two = accepted(workspace, writer, "Galley Flame", status=Article.Status.PUBLISHED)
    accepted(workspace, writer, "Unreviewed draft", status=Article.Status.DRAFT)
    client.force_login(editor)
    page = client.get(reverse("corpora:articles_to_dataset"), {"dataset": dataset.pk})
    html = page.content.decode()
    assert page.status_code == 200
    assert "Stormhold 30" in html and "Galley Flame" in html and "Unreviewed draft" not in html
    assert f'<option value="{dataset.pk}" selected>Voice (v1, 2 records)</option>' in html
    response = client.post(reverse("corpora:articles_to_dataset"),
                           {"dataset": dataset.pk, "articles": [one.pk, two.pk], "note": "First batch"})
    version = dataset.versions.get(number=2)
    assert response.status_code == 302 and response["Location"] == version.get_absolute_url()
    page = client.get(response["Location"])
    html = page.content.decode()
    assert "Version 2 of “Voice”: 2 approved articles added." in html
    assert 'data-testid="from-articles"' in html
    assert html.count(f'href="{one.get_absolute_url()}"') == 2  # in "From articles" and on its record
    assert html.count(f'href="{two.get_absolute_url()}"') == 2
    again = client.get(reverse("corpora:articles_to_dataset")).content.decode()
    assert f'href="{version.get_absolute_url()}">Voice v2</a>' in again  # "Already in"


def test_the_page_shows_a_refusal_and_keeps_the_ticks(client, workspace, admin, editor, writer, media_root):
    dataset = dataset_of(workspace, admin, pairs(2))
    article = accepted(workspace, writer, "Stormhold 30")
    add(dataset, [article], editor)
    client.force_login(editor)
    response = client.post(reverse("corpora:articles_to_dataset"), {"dataset": dataset.pk, "articles": [article.pk]})
    html = response.content.decode()
    assert response.status_code == 400
    assert "Already in “Voice” v2: “Stormhold 30”. Leave it out." in html
    assert f'value="{article.pk}" id="article-{article.pk}" checked' in html
    nothing = client.post(reverse("corpora:articles_to_dataset"), {"dataset": dataset.pk})
    assert "Choose at least one approved article." in nothing.content.decode()
    assert dataset.versions.count() == 2


def test_another_workspaces_dataset_cannot_be_chosen(
        client, workspace, other_workspace, admin, editor, writer, media_root):
    theirs = dataset_of(other_workspace, None, pairs(1), name="Theirs")
    article = accepted(workspace, writer, "Stormhold 30")
    client.force_login(editor)
    response = client.post(reverse("corpora:articles_to_dataset"), {"dataset": theirs.pk, "articles": [article.pk]})
    assert response.status_code == 400
    assert "Choose one of this workspace&#x27;s datasets." in response.content.decode()
    assert theirs.versions.count() == 1


def test_a_writer_may_not_add_articles_and_sees_no_button(client, workspace, admin, writer, media_root):
    dataset = dataset_of(workspace, admin, pairs(2))
    article = accepted(workspace, writer, "Stormhold 30")
    client.force_login(writer)
    assert client.get(reverse("corpora:articles_to_dataset")).status_code == 403
    response = client.post(reverse("corpora:articles_to_dataset"), {"dataset": dataset.pk, "articles": [article.pk]})
    assert response.status_code == 403 and dataset.versions.count() == 1
    assert "Add approved articles" not in client.get(dataset.get_absolute_url()).content.decode()
    assert "Add approved articles" not in client.get(reverse("write")).content.decode()


def test_editors_find_the_page_from_the_dataset_and_the_write_list(client, workspace, admin, editor, media_root):
    dataset = dataset_of(workspace, admin, pairs(2))
    client.force_login(editor)
    link = f'{reverse("corpora:articles_to_dataset")}?dataset={dataset.pk}'
    assert link in client.get(dataset.get_absolute_url()).content.decode()
    assert reverse("corpora:articles_to_dataset") in client.get(reverse("write")).content.decode()


# --------------------------------------------------------------------------- API


@pytest.fixture
def editor_api(editor):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(editor)
    return client


def from_articles_url(dataset) -> str:
    return f"/api/datasets/{dataset.pk}/versions/from-articles/"


def test_api_adds_articles_as_a_new_version(editor_api, workspace, admin, writer, media_root):
    dataset = dataset_of(workspace, admin, pairs(2))
    article = accepted(workspace, writer, "Stormhold 30")
    response = editor_api.post(from_articles_url(dataset), {"articles": [article.pk], "note": "API"}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["number"], body["record_count"], body["note"]) == (2, 3, "1 approved article added to v1: API")
    records = editor_api.get(f"/api/datasets/{dataset.pk}/records/", {"version": 2}).json()["results"]
    assert [r["article"] for r in records] == [None, None, article.pk]
    again = editor_api.post(from_articles_url(dataset), {"articles": [article.pk]}, format="json")
    assert again.status_code == 400
    assert again.json()["articles"] == ["Already in “Voice” v2: “Stormhold 30”. Leave it out."]


def test_api_refuses_writers_and_other_workspaces(
        editor_api, workspace, other_workspace, make_member, admin, writer, media_root):
    from rest_framework.test import APIClient

    dataset = dataset_of(workspace, admin, pairs(2))
    article = accepted(workspace, writer, "Stormhold 30")
    as_writer = APIClient()
    as_writer.force_authenticate(writer)
    assert as_writer.post(from_articles_url(dataset), {"articles": [article.pk]}, format="json").status_code == 403
    theirs = dataset_of(other_workspace, None, pairs(1), name="Theirs")
    assert editor_api.post(from_articles_url(theirs), {"articles": [article.pk]}, format="json").status_code == 404
    bad = editor_api.post(from_articles_url(dataset), {"articles": ["x"]}, format="json")
    assert bad.status_code == 400 and "articles" in bad.json()
    assert dataset.versions.count() == 1 and theirs.versions.count() == 1


def test_the_article_page_include_links_to_the_picker_and_names_the_datasets_holding_it(
        workspace, admin, editor, writer, media_root):
    from django.template.loader import render_to_string

    article = accepted(workspace, writer, "Stormhold 30")
    draft = accepted(workspace, writer, "A draft", status=Article.Status.DRAFT)

    def include(article, user):
        return render_to_string("corpora/_article_to_dataset.html",
                                {"article": article, "current_membership": membership(user)})

    picker = f'{reverse("corpora:articles_to_dataset")}?article={article.pk}'
    assert picker in include(article, editor)
    assert include(article, writer).strip() == "" and include(draft, editor).strip() == ""
    version = add(dataset_of(workspace, admin, pairs(1)), [article], editor)
    shown = include(article, writer)
    assert f'In training data: <a href="{version.get_absolute_url()}">Voice v2</a>.' in shown and picker not in shown


def test_the_picker_ticks_the_article_it_was_opened_from(client, workspace, editor, writer, media_root):
    article = accepted(workspace, writer, "Stormhold 30")
    other = accepted(workspace, writer, "Galley Flame")
    client.force_login(editor)
    html = client.get(reverse("corpora:articles_to_dataset"), {"article": article.pk}).content.decode()
    assert f'value="{article.pk}" id="article-{article.pk}" checked' in html
    assert f'value="{other.pk}" id="article-{other.pk}" >' in html
