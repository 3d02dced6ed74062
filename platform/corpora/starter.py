"""The example dataset every new workspace starts with."""

from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from corpora.models import Dataset
from corpora.services import UploadOptions, dataset_create_from_upload

STARTER_DIR = Path(__file__).resolve().parent / "starter"
EXAMPLE_FILE = STARTER_DIR / "example_voice.jsonl"
EXAMPLE_NAME = "Example: Saltbeard pirate voice"
EXAMPLE_DESCRIPTION = (
    "Prompts and replies from an outdoor-gear shop that talks like a cheerful pirate "
    "(“Fair winds and dry socks!”). Fine-tune on it to see a model pick up a voice."
)


@transaction.atomic
def seed_example_dataset(*, workspace, created_by=None) -> Dataset:
    """Create the example dataset (one ready version) once; later calls return the existing one."""
    existing = Dataset.objects.filter(workspace=workspace, name=EXAMPLE_NAME).first()
    if existing is not None:
        return existing
    upload = SimpleUploadedFile(EXAMPLE_FILE.name, EXAMPLE_FILE.read_bytes(), "application/jsonl")
    version = dataset_create_from_upload(
        workspace=workspace, user=created_by, name=EXAMPLE_NAME, description=EXAMPLE_DESCRIPTION,
        files=[upload], options=UploadOptions(), background=False,
    )
    return version.dataset
