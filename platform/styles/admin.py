from django.contrib import admin

from styles.models import StyleProfile, StyleProfileVersion


@admin.register(StyleProfile)
class StyleProfileAdmin(admin.ModelAdmin):
    list_display = ["name", "workspace", "updated_at"]
    list_filter = ["workspace"]
    search_fields = ["name"]


@admin.register(StyleProfileVersion)
class StyleProfileVersionAdmin(admin.ModelAdmin):
    list_display = ["profile", "number", "note", "created_at"]
    search_fields = ["profile__name", "voice"]
