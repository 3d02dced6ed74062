"""Bounds of ids wherever they come in: URL paths, query strings, API bodies.

Database ids are 64-bit signed integers; a larger number would overflow the database driver
(a server error) instead of simply naming nothing.
"""

import re

from rest_framework import serializers

ID_MAX = 2**63 - 1
_ID_RE = re.compile(r"[0-9]{1,19}")


def parse_id(value) -> int | None:
    """An id from untrusted text (a query parameter, a header), or None when it is not one."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and _ID_RE.fullmatch(value):
        number = int(value)
    else:
        return None
    return number if 1 <= number <= ID_MAX else None


def id_field(**kwargs) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=ID_MAX, **kwargs)


class IdConverter:
    """`<id:pk>` in URL patterns: digits that fit a database id (larger numbers match no URL: 404)."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return str(int(value))
