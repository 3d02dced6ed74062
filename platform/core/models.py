from django.db import models


class WorkerHeartbeat(models.Model):
    """One row per running worker cluster process, touched every few seconds while it lives."""

    cluster = models.CharField(max_length=64)
    hostname = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    last_seen = models.DateTimeField(db_index=True)
    restarts = models.PositiveIntegerField(default=0, help_text="How many times `make run` restarted this cluster.")
    restarted_at = models.DateTimeField(null=True, blank=True, help_text="When it was last restarted.")

    class Meta:
        ordering = ["cluster", "hostname", "pid"]
        constraints = [
            models.UniqueConstraint(fields=["cluster", "hostname", "pid"], name="one_heartbeat_per_process")
        ]

    def __str__(self) -> str:
        return f"{self.cluster} worker {self.hostname}:{self.pid}"
