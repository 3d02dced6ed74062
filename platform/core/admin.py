from django.contrib import admin

from core.models import WorkerHeartbeat


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin):
    list_display = ["cluster", "hostname", "pid", "started_at", "last_seen"]
    list_filter = ["cluster"]
