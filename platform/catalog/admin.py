from django.contrib import admin

from catalog.models import ModelVersion


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ["name", "workspace", "kind", "source", "created_at"]
    list_filter = ["workspace", "kind"]
    search_fields = ["name", "source", "description"]
