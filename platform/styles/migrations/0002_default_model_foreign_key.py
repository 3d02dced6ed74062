"""A style's default model becomes a reference to the catalog's model (it was its name as text).

Names that match a model of the style's workspace point at it; blank, "default" and names of
models since removed become empty: the workspace default."""

import django.db.models.deletion
from django.db import migrations, models


def names_to_models(apps, schema_editor):
    ModelVersion = apps.get_model("catalog", "ModelVersion")
    StyleProfileVersion = apps.get_model("styles", "StyleProfileVersion")
    for version in StyleProfileVersion.objects.exclude(default_model_name="").select_related("profile"):
        model = ModelVersion.objects.filter(workspace_id=version.profile.workspace_id, name=version.default_model_name.strip()).first()
        if model is not None:
            version.default_model = model
            version.save(update_fields=["default_model"])


def models_to_names(apps, schema_editor):
    StyleProfileVersion = apps.get_model("styles", "StyleProfileVersion")
    for version in StyleProfileVersion.objects.exclude(default_model=None).select_related("default_model"):
        version.default_model_name = version.default_model.name
        version.save(update_fields=["default_model_name"])


class Migration(migrations.Migration):

    dependencies = [
        ("catalog", "0003_status_and_promotion"),
        ("styles", "0001_initial"),
    ]

    operations = [
        migrations.RenameField(model_name="styleprofileversion", old_name="default_model", new_name="default_model_name"),
        migrations.AddField(
            model_name="styleprofileversion",
            name="default_model",
            field=models.ForeignKey(blank=True, help_text="Empty: the workspace default.", null=True,
                                    on_delete=django.db.models.deletion.SET_NULL, related_name="style_versions",
                                    to="catalog.modelversion"),
        ),
        migrations.RunPython(names_to_models, models_to_names),
        migrations.RemoveField(model_name="styleprofileversion", name="default_model_name"),
    ]
