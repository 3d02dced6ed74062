from django.apps import AppConfig


class StylesConfig(AppConfig):
    name = "styles"
    verbose_name = "Style profiles"

    def ready(self):
        from accounts.signals import workspace_created

        workspace_created.connect(_seed, dispatch_uid="styles.starter")


def _seed(sender, workspace, **kwargs):
    from styles.starter import seed_starter_styles

    seed_starter_styles(workspace=workspace)
