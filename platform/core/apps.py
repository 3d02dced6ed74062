from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Inkstone core"

    def ready(self):
        from django.urls import register_converter

        from core.fields import IdConverter

        # Before any URLconf (HTTP or WebSocket routing) is imported.
        register_converter(IdConverter, "id")
