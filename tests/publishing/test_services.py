"""Scheduled publishing: who may schedule what, and a due run that moves an article once."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.models import Schedule

from accounts.permissions import WorkspacePermissionDenied
from articles.models import Article, Transition
from publishing import services
from publishing.tasks import scheduled_transition
from tests.publishing.conftest import membership

S = Article.Status


def soon(minutes=10):
    return timezone.now() + timedelta(minutes=minutes)


def test_editor_schedules_an_approved_article_and_one_schedule_waits_for_it(make_article, editor):
    article = make_article()
    when = soon()
    services.schedule(article=article, membership=membership(editor), publish_at=when)
    article.refresh_from_db()
    assert article.publish_at == when and article.status == S.APPROVED
    schedule = Schedule.objects.get(name=f"publishing:publish:{article.pk}")
    assert schedule.schedule_type == Schedule.ONCE and schedule.next_run == when
    assert schedule.func == "publishing.tasks.scheduled_transition" and schedule.cluster == "generation"


def test_rescheduling_moves_the_one_schedule_and_cancelling_removes_it(make_article, editor):
    article = make_article()
    services.schedule(article=article, membership=membership(editor), publish_at=soon(10))
    later = soon(60)
    services.schedule(article=article, membership=membership(editor), publish_at=later, unpublish_at=soon(120))
    assert Schedule.objects.filter(name=f"publishing:publish:{article.pk}").get().next_run == later
    assert Schedule.objects.filter(name=f"publishing:unpublish:{article.pk}").count() == 1

    services.schedule_cancel(article=article, membership=membership(editor))
    article.refresh_from_db()
    assert article.publish_at is None and article.unpublish_at is None
    assert not Schedule.objects.filter(name__endswith=f":{article.pk}").exists()


def test_writer_cannot_schedule(make_article, writer):
    article = make_article()
    with pytest.raises(WorkspacePermissionDenied):
        services.schedule(article=article, membership=membership(writer), publish_at=soon())
    assert not Schedule.objects.exists()


@pytest.mark.parametrize("status", [S.DRAFT, S.IN_REVIEW, S.CHANGES_REQUESTED, S.REJECTED, S.ARCHIVED, S.PUBLISHED])
def test_only_approved_or_unpublished_articles_can_be_scheduled_for_publishing(make_article, editor, status):
    article = make_article(status=status)
    with pytest.raises(services.ScheduleError) as refused:
        services.schedule(article=article, membership=membership(editor), publish_at=soon())
    assert "publish_at" in refused.value.errors and "approved or unpublished" in refused.value.errors["publish_at"]
    article.refresh_from_db()
    assert article.publish_at is None and not Schedule.objects.exists()


def test_an_unpublished_article_can_be_scheduled_again(make_article, editor):
    article = make_article(status=S.UNPUBLISHED)
    services.schedule(article=article, membership=membership(editor), publish_at=soon())
    assert Schedule.objects.count() == 1


def test_times_in_the_past_and_unpublishing_before_publishing_are_refused_by_field(make_article, editor):
    article = make_article()
    with pytest.raises(services.ScheduleError) as past:
        services.schedule(article=article, membership=membership(editor), publish_at=timezone.now() - timedelta(minutes=1))
    assert past.value.errors == {"publish_at": "Publish at: choose a time in the future."}
    with pytest.raises(services.ScheduleError) as backwards:
        services.schedule(article=article, membership=membership(editor), publish_at=soon(60), unpublish_at=soon(30))
    assert list(backwards.value.errors) == ["unpublish_at"] and "after the publishing time" in str(backwards.value)
    with pytest.raises(services.ScheduleError) as not_published:
        services.schedule(article=article, membership=membership(editor), unpublish_at=soon(30))
    assert "not published" in not_published.value.errors["unpublish_at"]
    article.refresh_from_db()
    assert (article.publish_at, article.unpublish_at) == (None, None) and not Schedule.objects.exists()


def test_a_published_article_can_be_scheduled_for_unpublishing(make_article, editor, publish):
    article = publish(make_article())
    services.schedule(article=article, membership=membership(editor), unpublish_at=soon())
    assert Schedule.objects.get().name == f"publishing:unpublish:{article.pk}"


def _make_due(article, **times):
    Article.objects.filter(pk=article.pk).update(**times)


def test_a_due_publish_runs_once_however_often_the_task_runs(make_article, editor):
    article = make_article()
    services.schedule(article=article, membership=membership(editor), publish_at=soon())
    _make_due(article, publish_at=timezone.now() - timedelta(seconds=1))

    assert scheduled_transition(article.pk, "publish") == "published"
    assert scheduled_transition(article.pk, "publish") == "nothing scheduled (publish_at is empty)"
    article.refresh_from_db()
    assert article.status == S.PUBLISHED and article.slug == "saving-water-at-home" and article.publish_at is None
    transition = Transition.objects.get(article=article, action="publish")
    assert transition.actor is None and "Scheduled for" in transition.comment


def test_a_publish_that_is_not_due_yet_waits(make_article, editor):
    article = make_article()
    services.schedule(article=article, membership=membership(editor), publish_at=soon())
    assert scheduled_transition(article.pk, "publish").startswith("not due before")
    article.refresh_from_db()
    assert article.status == S.APPROVED


def test_a_schedule_left_behind_by_a_manual_publish_changes_nothing(make_article, editor, publish):
    article = make_article()
    services.schedule(article=article, membership=membership(editor), publish_at=soon())
    article = publish(article)
    assert article.publish_at is None
    assert scheduled_transition(article.pk, "publish").startswith("nothing scheduled")
    assert Transition.objects.filter(article=article, action="publish").count() == 1


def test_a_due_publish_of_an_article_sent_back_forgets_the_time(make_article, editor):
    article = make_article()
    services.schedule(article=article, membership=membership(editor), publish_at=soon())
    _make_due(article, publish_at=timezone.now() - timedelta(seconds=1), status=S.ARCHIVED)
    assert scheduled_transition(article.pk, "publish") == "the article is archived"
    article.refresh_from_db()
    assert article.status == S.ARCHIVED and article.publish_at is None


def test_a_due_unpublish_takes_the_article_down_once(make_article, editor, publish):
    article = publish(make_article())
    services.schedule(article=article, membership=membership(editor), unpublish_at=soon())
    _make_due(article, unpublish_at=timezone.now() - timedelta(seconds=1))
    assert scheduled_transition(article.pk, "unpublish") == "unpublished"
    assert scheduled_transition(article.pk, "unpublish").startswith("nothing scheduled")
    article.refresh_from_db()
    assert article.status == S.UNPUBLISHED and article.unpublish_at is None


def test_a_deleted_article_is_nothing_to_publish(make_article, editor):
    article = make_article()
    pk = article.pk
    article.delete()
    assert scheduled_transition(pk, "publish") == "the article no longer exists"
