from django.contrib import admin

from corpora.models import Dataset, DatasetVersion, Record, Upload


class DatasetVersionInline(admin.TabularInline):
    model = DatasetVersion
    extra = 0
    fields = ["number", "status", "note", "record_count", "token_count", "created_at"]
    readonly_fields = fields
    show_change_link = True
    can_delete = False


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin):
    list_display = ["name", "workspace", "created_by", "updated_at"]
    list_filter = ["workspace"]
    search_fields = ["name", "description"]
    inlines = [DatasetVersionInline]


@admin.register(DatasetVersion)
class DatasetVersionAdmin(admin.ModelAdmin):
    list_display = ["dataset", "number", "status", "record_count", "token_count", "created_at"]
    list_filter = ["status"]
    search_fields = ["dataset__name", "note"]
    readonly_fields = ["stats", "error_report"]


@admin.register(Record)
class RecordAdmin(admin.ModelAdmin):
    list_display = ["version", "index", "kind", "split", "token_count", "source"]
    list_filter = ["kind", "split"]
    list_select_related = ["version__dataset"]
    raw_id_fields = ["version"]


@admin.register(Upload)
class UploadAdmin(admin.ModelAdmin):
    list_display = ["dataset_name", "workspace", "status", "created_by", "created_at"]
    list_filter = ["status", "workspace"]
    search_fields = ["dataset_name"]
    readonly_fields = ["progress_done", "progress_total", "error_report", "sources", "options", "file_names"]
    raw_id_fields = ["dataset", "version"]
