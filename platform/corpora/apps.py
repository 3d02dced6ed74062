from django.apps import AppConfig


class CorporaConfig(AppConfig):
    name = "corpora"
    verbose_name = "Datasets"

    def ready(self):
        from accounts.signals import workspace_created

        workspace_created.connect(_seed, dispatch_uid="corpora.starter")


def _seed(sender, workspace, **kwargs):
    from corpora.starter import seed_example_dataset

    seed_example_dataset(workspace=workspace)
