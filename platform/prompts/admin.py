from django.contrib import admin

from prompts.models import PromptTemplate, PromptTemplateVersion


class VersionInline(admin.TabularInline):
    model = PromptTemplateVersion
    extra = 0
    fields = ["number", "note", "created_by", "created_at"]
    readonly_fields = fields
    can_delete = False


@admin.register(PromptTemplate)
class PromptTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "workspace", "category", "updated_at"]
    list_filter = ["category", "workspace"]
    search_fields = ["name"]
    inlines = [VersionInline]


@admin.register(PromptTemplateVersion)
class PromptTemplateVersionAdmin(admin.ModelAdmin):
    list_display = ["template", "number", "note", "created_at"]
    search_fields = ["template__name", "body"]
