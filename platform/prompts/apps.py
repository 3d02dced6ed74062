from django.apps import AppConfig


class PromptsConfig(AppConfig):
    name = "prompts"
    verbose_name = "Prompt templates"

    def ready(self):
        from accounts.signals import workspace_created

        workspace_created.connect(_seed, dispatch_uid="prompts.starter")


def _seed(sender, workspace, **kwargs):
    from prompts.starter import seed_starter_templates

    seed_starter_templates(workspace=workspace)
