"""django-q2 tasks: ids in, one service call. Safe to run twice."""

from corpora.models import Upload
from corpora.services import upload_parse


def parse_dataset_upload(upload_id: int) -> str:
    """Parse a large upload saved under MEDIA_ROOT into its version's records (or reject it)."""
    return upload_parse(upload_id=upload_id)


def parse_upload(version_id: int) -> str:
    """Tasks queued before uploads were tracked named the version; its Upload has the files now."""
    upload = Upload.objects.filter(version_id=version_id).first()
    return upload_parse(upload_id=upload.pk) if upload else "gone"
