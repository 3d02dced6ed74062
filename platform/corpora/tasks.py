"""django-q2 tasks: ids in, one service call. Safe to run twice."""

from corpora.services import version_parse_sources


def parse_upload(version_id: int) -> str:
    """Parse a large upload saved under MEDIA_ROOT into the version's records."""
    return version_parse_sources(version_id=version_id)
