"""Articles written before revisions were kept get their text as revision 1."""

import pytest

from tests.support import migrate

BEFORE = [("articles", "0003_generation_prefill")]



@pytest.mark.django_db(transaction=True)
def test_existing_text_becomes_the_first_revision(workspace, make_member):
    writer = make_member("writer", workspace)
    apps = migrate(BEFORE)
    try:
        Article = apps.get_model("articles", "Article")
        Generation = apps.get_model("articles", "Generation")
        chosen = Article.objects.create(workspace_id=workspace.pk, title="Chosen", body="Machine text.", created_by_id=writer.pk)
        generation = Generation.objects.create(article=chosen, workspace_id=workspace.pk, model_name="m", prompt="p",
                                               seed=1, text="Machine text.", status="completed")
        Article.objects.filter(pk=chosen.pk).update(chosen=generation)
        typed = Article.objects.create(workspace_id=workspace.pk, title="Typed", body="By hand.", created_by_id=writer.pk)
        empty = Article.objects.create(workspace_id=workspace.pk, title="Empty", body="")
    finally:
        apps = migrate()

    from articles.models import Article

    chosen, typed, empty = (Article.objects.get(pk=a.pk) for a in (chosen, typed, empty))
    assert (chosen.revision, chosen.status) == (1, "draft")
    first = chosen.revisions.get()
    assert (first.body, first.generation_id, first.machine_share, first.created_by_id) == ("Machine text.", generation.pk, 1.0, writer.pk)
    assert typed.revisions.get().machine_share == 0.0
    assert empty.revision == 0 and not empty.revisions.exists()
