import pytest

from tests.generation.conftest import smollm2_tokenizer_dir, tiny_lora_dir, tiny_model_dir  # noqa: F401


@pytest.fixture(autouse=True)
def model_roots(settings, tmp_path_factory):
    """Models may be added from pytest's temporary folders (where the tiny models live)."""
    settings.INKSTONE_MODEL_ROOTS = [tmp_path_factory.getbasetemp().resolve()]
    return settings.INKSTONE_MODEL_ROOTS


@pytest.fixture
def admin(make_member, workspace):
    return make_member("admin", workspace, username="ada")


@pytest.fixture
def writer(make_member, workspace):
    return make_member("writer", workspace, username="wendy")


@pytest.fixture
def lora_version(workspace, admin, tiny_lora_dir):  # noqa: F811
    from catalog.services import model_register

    return model_register(workspace=workspace, user=admin, name="saltbeard-lora", source=str(tiny_lora_dir),
                          description="Pirate voice, one epoch.")


# A training run's evaluation (the shared evaluation contract), one that improved and one that did not.
IMPROVED = {
    "before": {"val_loss": 4.61, "perplexity": 100.5}, "after": {"val_loss": 3.0, "perplexity": 20.1},
    "improved": True, "change": -0.8, "seed": 1234, "max_new_tokens": 96, "val_records": 32,
    "samples": [{"prompt": "Describe the sea.", "base": "The sea is big.", "tuned": "Arr, the briny deep!",
                 "base_style_fit": 0.41, "tuned_style_fit": 0.77, "base_grade": 8.2, "tuned_grade": 6.9}],
    "style_fit": {"base": 0.41, "tuned": 0.77}, "reading_grade": {"base": 8.2, "tuned": 6.9}, "seconds": 12.3,
}
WORSE = {"before": {"val_loss": 3.0, "perplexity": 20.0}, "after": {"val_loss": 3.22, "perplexity": 25.0},
         "improved": False, "change": 0.25}


@pytest.fixture
def data_dir(settings, tmp_path, model_roots):
    """A data folder of its own: models/ and adapters/ are where models may be added from."""
    data = (tmp_path / "data").resolve()
    (data / "models").mkdir(parents=True)
    (data / "adapters").mkdir()
    settings.DATA_DIR = data
    model_roots[:] = [data / "models", data / "adapters"]
    return data


@pytest.fixture
def run_output(data_dir, tiny_lora_dir, tiny_model_dir):  # noqa: F811
    """run_output(workspace, run_id) -> a finished run's adapter in the workspace's adapters
    folder, over the tiny model copied to models/tiny-base."""
    import json
    import shutil

    from catalog.services import workspace_adapters_dir

    base = data_dir / "models" / "tiny-base"
    shutil.copytree(tiny_model_dir, base)

    def make(workspace, run_id=1):
        folder = workspace_adapters_dir(workspace) / str(run_id)
        shutil.copytree(tiny_lora_dir, folder)
        meta = json.loads((folder / "inkstone.json").read_text())
        (folder / "inkstone.json").write_text(json.dumps({**meta, "base_model": str(base)}))
        return folder

    return make


@pytest.fixture
def add_candidate(admin, run_output):
    """add_candidate(workspace, name=..., evaluation=...) -> a candidate from a new run's output."""
    from catalog.services import model_add_candidate

    runs = iter(range(1, 1000))

    def add(workspace, name="pirate-run", evaluation=IMPROVED, user=admin):
        run_id = next(runs)
        return model_add_candidate(
            workspace=workspace, user=user, name=name, output_dir=run_output(workspace, run_id), evaluation=evaluation,
            lineage={"run": {"id": run_id, "url": f"/training/{run_id}/", "dataset": "Quotes v2"}})

    return add
