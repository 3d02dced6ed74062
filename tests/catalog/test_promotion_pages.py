"""The Models pages and API around candidates: compare, read the evaluation, promote, download, delete."""

import io
import zipfile
from pathlib import Path

import pytest
from django.test import TestCase
from django.urls import reverse
from rest_framework.test import APIClient

from catalog.models import ModelVersion
from tests.catalog.conftest import WORSE


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_list_shows_status_and_filters_by_it(client, workspace, writer, lora_version, add_candidate):
    add_candidate(workspace)
    client.force_login(writer)
    page = client.get(reverse("catalog:model_list")).text
    assert 'data-testid="status-pirate-run">Candidate<' in page and 'data-testid="status-saltbeard-lora">Promoted<' in page
    assert "Not offered to writers until promoted" in page
    candidates = client.get(reverse("catalog:model_list"), {"status": "candidate"}).text
    assert "pirate-run" in candidates and "saltbeard-lora" not in candidates and 'data-testid="model-default"' not in candidates
    assert "pirate-run" not in client.get(reverse("draft_new")).text  # not on the draft page either


def test_compare_puts_the_fine_tunes_side_by_side(client, workspace, writer, lora_version, add_candidate):
    add_candidate(workspace)
    add_candidate(workspace, evaluation=WORSE)
    client.force_login(writer)
    page = client.get(reverse("catalog:model_compare"))
    assert page.status_code == 200
    text = page.text
    rows = text.index('compare-pirate-run-2"'), text.index('compare-pirate-run"'), text.index('compare-saltbeard-lora"')
    assert rows == tuple(sorted(rows))  # newest first
    first = text[rows[1]:rows[2]]
    assert '<a href="/training/1/">1</a>' in first and "Quotes v2" in first and "tiny-base" in first
    assert "<td>lora</td>" in first and "<td>100.50</td>" in first and "<td>20.10</td>" in first and "−80.0%" in first
    assert "0.41 → 0.77" in first and "8.2 → 6.9" in first and "Candidate" in first
    assert "+25.0%" in text[rows[0]:rows[1]]
    old = text[rows[2]:]  # registered by path: no run, no evaluation
    assert "— → —" in old and "Promoted" in old and "<td>—</td>" in old


def test_the_detail_page_shows_lineage_and_base_vs_tuned_samples(client, workspace, writer, add_candidate):
    version = add_candidate(workspace)
    client.force_login(writer)
    text = client.get(version.get_absolute_url()).text
    assert 'data-testid="candidate-notice"' in text and "Write with it" not in text
    assert '<a href="/training/1/">run 1</a> on Quotes v2' in text
    assert "Improved" in text and "100.50" in text and "20.10" in text and "(−80.0%)" in text
    assert "The sea is big." in text and "Arr, the briny deep!" in text and "style fit 0.77" in text
    assert 'data-testid="promote"' not in text and "Download" not in text  # writers neither promote nor download


@pytest.mark.parametrize("role", ["writer", "editor"])
def test_only_admins_promote_download_and_delete(client, make_member, workspace, add_candidate, role):
    version = add_candidate(workspace)
    user = make_member(role, workspace)
    client.force_login(user)
    assert client.post(reverse("catalog:model_promote", args=[version.pk]), {"reason": "x"}).status_code == 403
    assert client.get(reverse("catalog:model_download", args=[version.pk])).status_code == 403
    assert client.post(reverse("catalog:model_delete", args=[version.pk])).status_code == 403
    assert api(user).post(f"/api/models/{version.pk}/promote/", {"reason": "x"}, format="json").status_code == 403
    version.refresh_from_db()
    assert version.status == "candidate"


def test_another_workspaces_candidate_is_not_found(client, make_member, other_workspace, add_candidate):
    theirs = add_candidate(other_workspace)
    admin = make_member("admin")
    client.force_login(admin)
    for url in (theirs.get_absolute_url(), reverse("catalog:model_download", args=[theirs.pk])):
        assert client.get(url).status_code == 404
    assert client.post(reverse("catalog:model_promote", args=[theirs.pk]), {"reason": "x"}).status_code == 404
    assert api(admin).post(f"/api/models/{theirs.pk}/promote/", {"reason": "x"}, format="json").status_code == 404
    assert "pirate-run" not in client.get(reverse("catalog:model_compare")).text


def test_admin_promotes_on_the_page_a_reason_is_needed_when_it_did_not_improve(client, workspace, admin, add_candidate):
    version = add_candidate(workspace, evaluation=WORSE)
    client.force_login(admin)
    page = client.get(version.get_absolute_url()).text
    assert "It did not improve on its base model" in page and "required></textarea>" in page
    refused = client.post(reverse("catalog:model_promote", args=[version.pk]), {"reason": " "})
    assert refused.status_code == 200 and "went from 20.00 to 25.00" in refused.text
    version.refresh_from_db()
    assert version.status == "candidate"
    done = client.post(reverse("catalog:model_promote", args=[version.pk]), {"reason": "Sounds more like us."}, follow=True)
    assert done.redirect_chain[-1][0] == version.get_absolute_url()
    assert "is promoted: writers can pick it now" in done.text and "“Sounds more like us.”" in done.text
    assert 'data-testid="promote"' not in done.text and "Write with it" in done.text
    assert "pirate-run" in client.get(reverse("draft_new")).text


def test_the_api_shows_status_and_evaluation_and_promotes(workspace, admin, writer, add_candidate):
    version = add_candidate(workspace, evaluation=WORSE)
    body = api(writer).get(f"/api/models/{version.pk}/").json()
    assert (body["status"], body["promoted_at"], body["promoted_by"], body["evaluation"]) == ("candidate", None, None, WORSE)
    assert [m["name"] for m in api(writer).get("/api/models/", {"status": "candidate"}).json()["results"]] == ["pirate-run"]
    assert api(writer).get("/api/models/", {"status": "promoted"}).json()["results"] == []
    assert set(api(writer).get("/api/models/", {"status": "nope"}).json()) == {"status"}
    refused = api(admin).post(f"/api/models/{version.pk}/promote/", {"reason": ""}, format="json")
    assert refused.status_code == 400 and "went from 20.00 to 25.00" in refused.json()["reason"][0]
    assert api(admin).post(f"/api/models/{version.pk}/promote/", {"reasons": "x"}, format="json").status_code == 400
    done = api(admin).post(f"/api/models/{version.pk}/promote/", {"reason": "Team likes it."}, format="json")
    assert done.status_code == 200
    assert (done.json()["status"], done.json()["promoted_by"], done.json()["promotion_reason"]) == ("promoted", "ada", "Team likes it.")
    again = api(admin).post(f"/api/models/{version.pk}/promote/", {}, format="json")
    assert again.status_code == 400 and set(again.json()) == {"status"}


def test_admin_downloads_the_model_folder_as_a_zip(client, workspace, admin, add_candidate):
    version = add_candidate(workspace)
    client.force_login(admin)
    response = client.get(reverse("catalog:model_download", args=[version.pk]))
    assert response.status_code == 200 and response.streaming
    assert response["Content-Disposition"] == 'attachment; filename="pirate-run.zip"'
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    names = sorted(archive.namelist())
    assert "pirate-run/adapter_config.json" in names and "pirate-run/inkstone.json" in names
    assert archive.read("pirate-run/adapter_model.safetensors") == (Path(version.source) / "adapter_model.safetensors").read_bytes()


def test_a_download_of_files_that_are_gone_says_so(client, workspace, admin, add_candidate):
    import shutil

    version = add_candidate(workspace)
    shutil.rmtree(version.source)
    client.force_login(admin)
    response = client.get(reverse("catalog:model_download", args=[version.pk]), follow=True)
    assert response.redirect_chain[-1][0] == version.get_absolute_url()
    assert f"The files of “pirate-run” are gone: {version.source} no longer exists on the server." in response.text


def test_deleting_names_what_it_touches_and_removes_only_a_runs_own_files(client, workspace, admin, writer, lora_version,
                                                                         add_candidate, tiny_lora_dir):
    from articles.models import Article
    from articles.services import DraftRequest, draft_create
    from catalog.services import model_promote
    from styles.services import style_create

    version = model_promote(version=add_candidate(workspace), user=admin)
    style_create(workspace=workspace, user=admin, name="Pirate", voice="Arr.", default_model="pirate-run")
    for title in ("Sea shanty", "Treasure map"):
        article = draft_create(workspace=workspace, user=writer, request=DraftRequest(title=title, prompt="Hi", model="pirate-run"))
    Article.objects.filter(pk=article.pk).update(body="X marks the spot.")
    spec = version.spec
    client.force_login(admin)
    page = client.get(reverse("catalog:model_delete", args=[version.pk])).text
    assert "2 drafts written with it keep their text" in page and "“Treasure map”, “Sea shanty”" in page
    assert "These styles use it by default and will use the workspace default model instead: Pirate." in page
    assert f"Its files in this workspace's fine-tunes folder are deleted too: <code>{version.source}</code>" in page

    with TestCase.captureOnCommitCallbacks(execute=True):
        done = client.post(reverse("catalog:model_delete", args=[version.pk]), follow=True)
    assert "Removed “pirate-run” from this workspace. Its files were deleted too." in done.text
    assert not Path(version.source).exists() and Path(version.source).parent.is_dir()
    article.refresh_from_db()
    generation = article.generations.get()
    assert article.body == "X marks the spot." and generation.model_version is None and generation.model_name == spec

    page = client.get(reverse("catalog:model_delete", args=[lora_version.pk])).text  # registered from elsewhere
    assert "No drafts were written with it." in page and "Its files on disk are not deleted." in page
    client.post(reverse("catalog:model_delete", args=[lora_version.pk]))
    assert tiny_lora_dir.is_dir() and not ModelVersion.objects.exists()


def test_deleting_a_model_with_one_draft_says_so_in_the_singular(client, workspace, admin, writer, add_candidate):
    from articles.services import DraftRequest, draft_create
    from catalog.services import model_promote

    version = model_promote(version=add_candidate(workspace), user=admin)
    draft_create(workspace=workspace, user=writer, request=DraftRequest(title="Sea shanty", prompt="Hi", model="pirate-run"))
    client.force_login(admin)
    page = " ".join(client.get(reverse("catalog:model_delete", args=[version.pk])).text.split())
    assert ("1 draft written with it keeps its text and says which model wrote it: “Sea shanty”. "
            "Regenerating it will ask for another model.") in page
