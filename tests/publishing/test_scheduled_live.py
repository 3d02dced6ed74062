"""A scheduled publish on the real parts: a `manage.py worker` generation cluster (django-q2's
scheduler in its sentinel, the ORM broker, a worker process) on the test database.

django-q2 (1.11) runs its scheduler from the cluster's guard loop once every 30 seconds of guard
cycles (`counter >= 30` in django_q.cluster.Sentinel.guard; not a setting), the first time 30 s
after the cluster starts. A schedule due at T therefore becomes a task at most one tick after T,
and the worker picks the task up within the broker's poll (0.05 s here).
"""

import re
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_q.models import Schedule

from articles.models import Article, Transition
from core.models import WorkerHeartbeat
from publishing import services
from tests.publishing.conftest import membership
from tests.support import start_worker, stop

pytestmark = pytest.mark.django_db(transaction=True)

SCHEDULER_TICK_S = 30.0  # django-q2's guard loop calls the scheduler every 30 s
MARGIN_S = 5.0  # the guard loop's own work per cycle, the broker's poll, the task itself


def wait_for(predicate, timeout, every=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise TimeoutError("condition not met in time")


def test_a_scheduled_publish_fires_within_one_scheduler_tick_on_the_real_cluster(tmp_path, make_article, editor):
    article = make_article(title="Published by the clock")
    log = tmp_path / "worker.log"
    worker = start_worker(connection.settings_dict, "generation", log)
    try:
        wait_for(lambda: WorkerHeartbeat.objects.filter(cluster="generation").exists(), timeout=60)
        # The guard loop (and with it the scheduler's clock) starts when the cluster says it runs.
        wait_for(lambda: re.search(r"Q Cluster .+ running", log.read_text(errors="replace")), timeout=60)
        publish_at = timezone.now() + timedelta(seconds=2)
        services.schedule(article=article, membership=membership(editor), publish_at=publish_at)
        assert Schedule.objects.filter(name=f"publishing:publish:{article.pk}").exists()

        def published():
            article.refresh_from_db()
            return article.status == Article.Status.PUBLISHED

        try:
            wait_for(published, timeout=SCHEDULER_TICK_S + 60)
        except TimeoutError:
            pytest.fail(f"not published in time; worker log:\n{log.read_text(errors='replace')[-4000:]}")
        delay = (article.published_at - publish_at).total_seconds()
        print(f"scheduled publish fired {delay:.2f} s after its time (tick {SCHEDULER_TICK_S:.0f} s)")
        assert 0 <= delay <= SCHEDULER_TICK_S + MARGIN_S
        assert article.slug == "published-by-the-clock" and article.publish_at is None
        # The ONCE schedule is gone and the article moved once, by the scheduler (no actor).
        assert not Schedule.objects.filter(name=f"publishing:publish:{article.pk}").exists()
        transitions = list(Transition.objects.filter(article=article, action="publish"))
        assert len(transitions) == 1 and transitions[0].actor is None
    finally:
        stop(worker)
