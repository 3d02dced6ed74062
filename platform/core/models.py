from django.db import models


class WorkerHeartbeat(models.Model):
    """One row per running worker cluster process, touched every few seconds while it lives."""

    cluster = models.CharField(max_length=64)
    hostname = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    last_seen = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["cluster", "hostname", "pid"]
        constraints = [
            models.UniqueConstraint(fields=["cluster", "hostname", "pid"], name="one_heartbeat_per_process")
        ]

    def __str__(self) -> str:
        return f"{self.cluster} worker {self.hostname}:{self.pid}"
