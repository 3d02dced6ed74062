"""The API's edges, defined once: its JSON parser, its one error shape, and the error responses
every operation documents.

Every error is a JSON object: `{"detail": "..."}`, plus `{field: [messages]}` for bad input
(nested for nested fields), so a client can show each message where it belongs.
"""

import logging
import uuid

from django.conf import settings
from django.core.exceptions import (
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from core.errors import FieldErrors
from core.text import unstorable_reason

logger = logging.getLogger("inkstone.api")

MAX_JSON_DEPTH = 32


def too_many(message: str, retry_after: int | None) -> exceptions.Throttled:
    """429 with our own message and a Retry-After header (DRF's own would append a second
    "Expected available in N seconds." to it)."""
    exc = exceptions.Throttled(detail=message)
    exc.wait = retry_after
    return exc


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "too_large"


def _body_limit() -> int:
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 2_621_440


def unstorable(value, path: str = "body") -> str | None:
    """Where and why a decoded JSON value holds text no database can store (a lone UTF-16
    surrogate, a NUL character), or nests deeper than MAX_JSON_DEPTH; None when it is fine."""
    todo = [(value, path, 0)]
    while todo:
        item, where, depth = todo.pop()
        if depth > MAX_JSON_DEPTH:
            return f"{where}: nested deeper than {MAX_JSON_DEPTH} levels"
        if isinstance(item, str):
            if reason := unstorable_reason(item):
                return f"{where}: {reason}"
        elif isinstance(item, dict):
            for key, child in item.items():
                if isinstance(key, str) and (problem := unstorable(key, f"{where} key")):
                    return problem
                todo.append((child, f"{where}.{key}" if where != "body" else str(key), depth + 1))
        elif isinstance(item, list):
            todo.extend((child, f"{where}[{i}]", depth + 1) for i, child in enumerate(item))
    return None


class StrictJSONParser(JSONParser):
    """DRF's JSON parser, refusing bodies over DATA_UPLOAD_MAX_MEMORY_SIZE (413, before reading
    them), a body that is not a JSON object (every operation takes one), JSON nested absurdly
    deep, and strings that cannot be stored (400 naming the field)."""

    def parse(self, stream, media_type=None, parser_context=None):
        request = (parser_context or {}).get("request")
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0) if request is not None else 0
        except ValueError:
            length = 0
        if length > _body_limit():
            raise PayloadTooLarge(f"The request body is {length:,} bytes; the limit is {_body_limit():,}.")
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - nested too deeply.") from None
        if not isinstance(data, dict):
            found = {list: "an array", str: "a string", bool: "true/false", type(None): "null"}.get(type(data), "a number")
            raise exceptions.ParseError(f"The request body must be a JSON object, not {found}.")
        problem = unstorable(data)
        if problem:
            raise exceptions.ParseError(f"JSON body: {problem}.")
        return data


class Pagination(PageNumberPagination):
    """Pages of 25 (`?page=N`); a page that is not a whole number from 1 is a 400 naming `page`,
    a page past the end a 404."""

    def get_page_number(self, request, paginator):
        from core.fields import parse_id

        raw = request.query_params.get(self.page_query_param)
        if raw is None:
            return 1
        number = parse_id(raw)  # the same bounds as an id
        if number is None:
            raise exceptions.ValidationError({"page": ["A page number: 1, 2, 3…"]})
        return number


def query_choice(request, name: str, choices) -> str:
    """A query parameter that must be one of `choices` when given: 400 naming it otherwise."""
    if name not in request.query_params:
        return ""
    value = request.query_params[name]
    if value not in choices:
        raise exceptions.ValidationError({name: [f"One of {', '.join(choices)}, not {value[:40]!r}."]})
    return value


@csrf_exempt
def api_not_found(request, *args, **kwargs):
    """Anything under /api/ that names no operation: a JSON 404 like every other API error."""
    from django.http import JsonResponse

    return JsonResponse({"detail": f"No API operation at {request.path[:200]}."}, status=404)


def _json_types(field) -> tuple[type, ...] | None:
    """The JSON types a field accepts from a JSON body (None: anything its own checks allow)."""
    if isinstance(field, serializers.BooleanField):
        return (bool,)
    if isinstance(field, serializers.IntegerField):
        return (int,)
    if isinstance(field, serializers.FloatField):
        return (int, float)
    if isinstance(field, serializers.CharField | serializers.ChoiceField):
        return (str,)
    if isinstance(field, serializers.DictField):
        return (dict,)
    if isinstance(field, serializers.ListField):
        return (list,)
    return None


class InputSerializer(serializers.Serializer):
    """Input of a JSON body, strict: DRF would turn `{"name": 0}` into "0", `"5"` into 5 and
    silently drop `{"temprature": 3}`; here a value of the wrong JSON type or an unknown field is
    a 400 naming it. (Form and multipart input, where every value is text, is left to the
    fields' own parsing.)"""

    def to_internal_value(self, data):
        if isinstance(data, dict) and not hasattr(data, "getlist"):
            known = {field.field_name for field in self.fields.values()}
            errors = {key: ["Unknown field: " + ("did you mean " + " or ".join(near) + "?" if (near := _near(key, known))
                                                 else f"expected one of {', '.join(sorted(known))}.")]
                      for key in data if key not in known}
            for name, field in self.fields.items():
                value = data.get(field.field_name)
                expected = _json_types(field)
                if value is None or expected is None or field.read_only:
                    continue
                wrong = not isinstance(value, expected) or (isinstance(value, bool) and bool not in expected)
                child = getattr(field, "child", None)
                if not wrong and child is not None and (child_types := _json_types(child)):
                    items = value.values() if isinstance(value, dict) else value
                    wrong = any(not isinstance(item, child_types) or (isinstance(item, bool) and bool not in child_types)
                                for item in items)
                if wrong:
                    errors[name] = [f"Expected {_type_words(expected, child)}."]
            if errors:
                raise exceptions.ValidationError(errors)
        return super().to_internal_value(data)


class VersionOutput(serializers.Serializer):
    """What every version of a versioned object (core.versioning.Version) says about itself;
    subclasses add the fields it saves."""

    number = serializers.IntegerField()
    note = serializers.CharField()
    created_by = serializers.CharField(source="created_by.username", default=None, allow_null=True)
    created_at = serializers.DateTimeField()


def _near(key: str, known: set[str]) -> list[str]:
    import difflib

    return difflib.get_close_matches(key, sorted(known), n=2, cutoff=0.6)


_TYPE_WORDS = {bool: "true or false", int: "a whole number", float: "a number", str: "a string",
               dict: "an object", list: "an array"}


def _type_words(expected, child) -> str:
    def words(types):
        return "a number" if types == (int, float) else _TYPE_WORDS[types[0]]

    child_types = _json_types(child) if child is not None else None
    return words(expected) + (f" (each item {words(child_types)})" if child_types else "")


def _django_validation_detail(exc: DjangoValidationError):
    return exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}


def exception_handler(exc, context):
    """DRF's handler, plus: Django's own errors mapped to their status, every body a JSON object,
    and an unexpected error answered as JSON 500 with an id to find its traceback in the log."""
    from rest_framework.views import (
        exception_handler as drf_exception_handler,  # (imports this module)
    )

    if isinstance(exc, FieldErrors):
        exc = exc.as_api_error()
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(_django_validation_detail(exc))
    elif isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge(f"The request body is too large; the limit is {_body_limit():,} bytes.")
    elif isinstance(exc, TooManyFieldsSent):
        exc = exceptions.ValidationError({"detail": f"Too many form fields; the limit is {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS}."})
    elif isinstance(exc, TooManyFilesSent):
        exc = exceptions.ValidationError({"detail": f"Too many files at once; the limit is {settings.DATA_UPLOAD_MAX_NUMBER_FILES}."})
    response = drf_exception_handler(exc, context)
    if response is None:
        error_id = uuid.uuid4().hex[:12]
        request = context.get("request")
        logger.exception("API error %s on %s %s", error_id, getattr(request, "method", "?"), getattr(request, "path", "?"))
        return Response({"detail": f"Server error (id {error_id}); it has been logged.", "error_id": error_id},
                        status=status.HTTP_500_INTERNAL_SERVER_ERROR)
    if isinstance(response.data, list):
        response.data = {"detail": " ".join(map(str, response.data)), "non_field_errors": response.data}
    return response


# --------------------------------------------------------------------------- OpenAPI

ERROR_SCHEMA = {
    "type": "object",
    "description": 'An error: `{"detail": "..."}`, or `{field: [messages]}` naming each bad field.',
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": True,
}
ERROR_RESPONSES = {
    "400": "Bad input: each message names its field (or the X-Workspace header).",
    "401": "Not signed in, or an invalid API token.",
    "403": "Your role in this workspace does not allow this.",
    "404": "No such object in your workspace.",
    "413": "The request body is too large.",
    "429": "Too many requests; wait the seconds in Retry-After.",
}
BODY_METHODS = {"post", "put", "patch"}
WORKSPACE_HEADER = {
    "name": "X-Workspace", "in": "header", "required": False,
    "description": "The workspace to act in: its id or slug (see /api/workspaces/). Default: the "
                   "session's workspace, else the one you joined first.",
    "schema": {"type": "string", "pattern": r"^([1-9][0-9]{0,17}|[-a-zA-Z0-9_]*[-a-zA-Z_][-a-zA-Z0-9_]*)?$", "maxLength": 120},
}


def _request_components(result) -> set[str]:
    """Names of the schemas JSON request bodies use, nested ones included."""
    found, todo = set(), []
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            if isinstance(operation, dict):
                content = operation.get("requestBody", {}).get("content", {})
                todo += [media.get("schema", {}) for kind, media in content.items() if kind == "application/json"]
    components = result.get("components", {}).get("schemas", {})
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/components/schemas/") and (name := ref.rsplit("/", 1)[1]) not in found:
                found.add(name)
                todo.append(components.get(name, {}))
            todo += [v for k, v in node.items() if k != "$ref"]
        elif isinstance(node, list):
            todo += node
    return found


def add_error_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook: every operation documents the errors it can answer."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault("Error", ERROR_SCHEMA)
    for name in _request_components(result):  # InputSerializer refuses unknown fields: say so
        components[name].setdefault("additionalProperties", False)
    ref = {"$ref": "#/components/schemas/Error"}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            parameters = operation.setdefault("parameters", [])
            if not any(p.get("name") == "X-Workspace" for p in parameters):
                parameters.append(WORKSPACE_HEADER)
            responses = operation.setdefault("responses", {})
            for code, description in ERROR_RESPONSES.items():
                if code == "413" and method not in BODY_METHODS:
                    continue
                if code in responses:
                    responses[code].setdefault("content", {"application/json": {"schema": ref}})
                    continue
                responses[code] = {"description": description, "content": {"application/json": {"schema": ref}}}
                if code == "429":
                    responses[code]["headers"] = {
                        "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}
                    }
    return result
