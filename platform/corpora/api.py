"""REST API for datasets: input serializer -> one service -> output serializer."""

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import generics, serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import InputSerializer, query_choice
from core.fields import ID_MAX, id_field, parse_id
from core.sampling import seed_api_field
from corpora import selectors, services
from corpora.models import Dataset, DatasetVersion, Record, Upload
from corpora.parsing import DELIMITERS


class ProblemOutput(serializers.Serializer):
    file = serializers.CharField()
    line = serializers.IntegerField(allow_null=True, help_text="null when the problem is the whole file")
    reason = serializers.CharField()


class VersionOutput(serializers.ModelSerializer):
    problems = serializers.SerializerMethodField(
        help_text="The rows skipped when only valid rows were kept (or, for versions made before "
        "uploads were tracked, why the version failed)."
    )
    upload = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, default=None,
        help_text="The upload a worker is reading into this version (GET /api/datasets/uploads/{id}/), if any.",
    )

    class Meta:
        model = DatasetVersion
        fields = [
            "number", "status", "note", "record_count", "token_count", "stats",
            "problems", "upload", "created_at", "finished_at",
        ]

    @extend_schema_field(ProblemOutput(many=True))
    def get_problems(self, version):
        return version.problems


class DatasetOutput(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", default=None, read_only=True, allow_null=True)
    latest_version = serializers.SerializerMethodField()
    versions = serializers.SerializerMethodField()

    class Meta:
        model = Dataset
        fields = ["id", "name", "description", "created_by", "created_at", "updated_at",
                  "latest_version", "versions"]

    @extend_schema_field(VersionOutput(allow_null=True))
    def get_latest_version(self, dataset):
        version = selectors.latest_version(dataset)
        return VersionOutput(version).data if version else None

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_versions(self, dataset):
        return list(dataset.versions.order_by("number").values_list("number", flat=True))


class RecordOutput(serializers.ModelSerializer):
    article = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True,
        help_text="Id of the approved article this record was made from, or null.",
    )

    class Meta:
        model = Record
        fields = ["index", "kind", "data", "split", "token_count", "source", "article"]


class UploadOutput(serializers.ModelSerializer):
    """An upload a worker reads. It stays after a rejection, which leaves no dataset or version."""

    dataset = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text="The dataset's id; null once it is gone (a rejected "
        "upload that created its dataset deletes it)."
    )
    version = serializers.IntegerField(
        source="version.number", read_only=True, allow_null=True, default=None,
        help_text="The version number it fills; null once rejected.",
    )
    files = serializers.ListField(source="file_names", child=serializers.CharField(), read_only=True)
    problems = serializers.SerializerMethodField(
        help_text="Why it was rejected, or the rows skipped when only valid rows were kept."
    )
    problem_total = serializers.IntegerField(read_only=True, help_text="All problems; `problems` lists the first 500.")
    url = serializers.HyperlinkedIdentityField(view_name="api-dataset-upload", help_text="Poll this.")

    class Meta:
        model = Upload
        fields = [
            "id", "url", "status", "dataset", "dataset_name", "new_dataset", "version", "files",
            "progress_done", "progress_total", "problems", "problem_total", "created_at", "finished_at",
        ]

    @extend_schema_field(ProblemOutput(many=True))
    def get_problems(self, upload):
        return upload.problems


class UploadRejectedOutput(serializers.Serializer):
    """File problems, or (for a bad field) `{field: [messages]}` instead."""

    detail = serializers.CharField(required=False)
    errors = ProblemOutput(many=True, required=False)
    total = serializers.IntegerField(required=False)


def _too_large_response(request) -> Response | None:
    """An oversized upload is refused from its Content-Length, before the body is read."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    if length > services.upload_max_bytes() + 64 * 1024:
        return Response({"files": [services.size_limit_message(length)]},
                        status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    return None


class UploadInput(InputSerializer):
    """Files and how to read them (as on the upload page)."""

    files = serializers.ListField(
        child=serializers.FileField(allow_empty_file=True), allow_empty=False,
        help_text="One or more .jsonl, .csv, .txt or .md files.",
    )
    keep_valid_rows = serializers.BooleanField(
        default=False, help_text="Store the valid rows and report the skipped ones instead of rejecting."
    )
    text_separator = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=40,
        help_text="Text/Markdown files: a line holding only this separates documents.",
    )
    csv_delimiter = serializers.ChoiceField(choices=list(DELIMITERS), default=",")
    csv_prompt_column = serializers.CharField(required=False, allow_blank=True, default="")
    csv_completion_column = serializers.CharField(required=False, allow_blank=True, default="")
    csv_text_column = serializers.CharField(required=False, allow_blank=True, default="")

    def validate(self, attrs):
        try:
            attrs["options"] = services.UploadOptions(
                keep_valid_rows=attrs["keep_valid_rows"], text_separator=attrs["text_separator"],
                csv_delimiter=attrs["csv_delimiter"], csv_prompt_column=attrs["csv_prompt_column"],
                csv_completion_column=attrs["csv_completion_column"],
                csv_text_column=attrs["csv_text_column"],
            )
        except ValueError as exc:
            raise serializers.ValidationError({"csv_prompt_column": [str(exc)]}) from None
        return attrs


UPLOAD_RESPONSES = {
    201: OpenApiResponse(DatasetOutput, description="Parsed in the request: the dataset, its new version ready."),
    202: OpenApiResponse(UploadOutput, description="Over INKSTONE_UPLOAD_ASYNC_BYTES: a worker reads the "
                         "files. Poll the upload's `url` (also in the Location header) until `status` is "
                         "`stored` or `rejected`; a rejected upload stores nothing and lists its problems."),
    400: OpenApiResponse(UploadRejectedOutput, description="File problems (file, line, reason) "
                         "or field errors ({field: [messages]}); nothing was stored."),
    413: OpenApiResponse(description="The upload is over INKSTONE_UPLOAD_MAX_BYTES."),
}


def _upload(request, input_class, store) -> Response:
    """Validate an upload, hand it to `store(validated_data)`, answer with the dataset (201), or
    with the upload a worker will read (202)."""
    too_large = _too_large_response(request)
    if too_large is not None:
        return too_large
    data = input_class(data=request.data)
    data.is_valid(raise_exception=True)
    try:
        version = store(data.validated_data)
    except services.UploadRejected as exc:
        return Response({"detail": exc.message, "errors": exc.as_dicts(), "total": exc.total},
                        status=status.HTTP_400_BAD_REQUEST)
    if version.status == DatasetVersion.Status.PROCESSING:
        body = UploadOutput(version.upload, context={"request": request}).data
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["url"]})
    return Response(DatasetOutput(version.dataset).data, status=status.HTTP_201_CREATED)


class DatasetListApi(generics.ListAPIView):
    """Datasets of the current workspace. POST uploads files as a new dataset (admins).

    Small uploads are parsed in the request (201 with a ready version, or 400 with the problems).
    Large ones answer 202 with the upload a worker reads: poll GET /api/datasets/uploads/{id}/
    until its status is `stored` or `rejected` (then nothing was stored, and it lists the problems).
    """

    serializer_class = DatasetOutput
    parser_classes = [MultiPartParser, FormParser]
    required_actions = {"POST": "datasets.manage"}
    required_action = "datasets.view"

    class CreateInput(UploadInput):
        name = serializers.CharField(max_length=120)
        description = serializers.CharField(required=False, allow_blank=True, default="")

    def get_queryset(self):
        return selectors.dataset_list(
            workspace=self.request.membership.workspace,
            search=self.request.query_params.get("search", ""),
            status=query_choice(self.request, "status", DatasetVersion.Status.values),
        )

    @extend_schema(parameters=[
        OpenApiParameter("search", str, description="Part of the name or description."),
        OpenApiParameter("status", str, enum=DatasetVersion.Status.values,
                         description="Status of the latest version."),
    ])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(request={"multipart/form-data": CreateInput}, responses=UPLOAD_RESPONSES)
    def post(self, request):
        def create(data):
            return services.dataset_create_from_upload(
                workspace=request.membership.workspace, user=request.user, name=data["name"],
                description=data["description"], files=data["files"], options=data["options"],
            )

        return _upload(request, self.CreateInput, create)


class DatasetUploadApi(APIView):
    """An upload a worker reads: progress in bytes, then `stored` (with the dataset and version)
    or `rejected` (with the problems; the dataset it created and its version are gone)."""

    required_action = "datasets.view"

    @extend_schema(responses=UploadOutput)
    def get(self, request, pk: int):
        upload = selectors.upload_for(membership=request.membership, pk=pk)
        return Response(UploadOutput(upload, context={"request": request}).data)


class DatasetDetailApi(APIView):
    """One dataset. PATCH renames or re-describes it, DELETE removes it with all versions (admins)."""

    required_action = "datasets.view"
    required_actions = {"PATCH": "datasets.manage", "DELETE": "datasets.manage"}

    class UpdateInput(InputSerializer):
        name = serializers.CharField(max_length=120, required=False)
        description = serializers.CharField(required=False, allow_blank=True)

    def _dataset(self, request, pk: int) -> Dataset:
        action = self.required_actions.get(request.method, self.required_action)
        return selectors.dataset_for(membership=request.membership, pk=pk, action=action)

    @extend_schema(responses=DatasetOutput)
    def get(self, request, pk: int):
        return Response(DatasetOutput(self._dataset(request, pk)).data)

    @extend_schema(request=UpdateInput, responses={200: DatasetOutput})
    def patch(self, request, pk: int):
        dataset = self._dataset(request, pk)
        data = self.UpdateInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        dataset = services.dataset_update(dataset=dataset, **data.validated_data)  # errors: core.api's handler
        return Response(DatasetOutput(dataset).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk: int):
        services.dataset_delete(dataset=self._dataset(request, pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


VERSION_PARAM = OpenApiParameter("version", int, description="Version number; default the latest.")


def _version_from_query(request, dataset) -> DatasetVersion:
    raw = request.query_params.get("version")
    if raw is None:
        return selectors.version_get(dataset=dataset)
    number = parse_id(raw)
    if number is None:
        raise serializers.ValidationError({"version": ["A version number, e.g. 2."]})
    return selectors.version_get(dataset=dataset, number=number)


class DatasetRecordsApi(generics.ListAPIView):
    """A page of a version's records, in order."""

    serializer_class = RecordOutput
    required_action = "datasets.view"

    def get_queryset(self):
        dataset = selectors.dataset_for(
            membership=self.request.membership, pk=self.kwargs["pk"], action="datasets.view"
        )
        version = _version_from_query(self.request, dataset)
        split = query_choice(self.request, "split", selectors.SPLIT_FILTERS) or None
        return selectors.version_records(version=version, split=split)

    @extend_schema(parameters=[
        VERSION_PARAM,
        OpenApiParameter("split", str, enum=["train", "validation", "unsplit"], description="Only this split."),
    ])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class JsonLinesRenderer(BaseRenderer):
    media_type = "application/jsonl"
    format = "jsonl"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


class DatasetExportApi(APIView):
    """A version as JSON Lines: each record in its original shape, plus "split" when labelled."""

    required_action = "datasets.view"
    renderer_classes = [JSONRenderer, JsonLinesRenderer]

    def finalize_response(self, request, response, *args, **kwargs):
        """Errors are JSON whatever `?format=` asked for (the JSON Lines renderer is for records)."""
        if response.status_code >= 400:
            request.accepted_renderer, request.accepted_media_type = JSONRenderer(), "application/json"
        return super().finalize_response(request, response, *args, **kwargs)

    @extend_schema(
        parameters=[VERSION_PARAM],
        responses={(200, "application/jsonl"): OpenApiResponse(OpenApiTypes.STR, description="JSON Lines"),
                   (409, "application/json"): inline_serializer("ExportNotReady", {"detail": serializers.CharField()})},
    )
    def get(self, request, pk: int):
        dataset = selectors.dataset_for(membership=request.membership, pk=pk, action="datasets.view")
        version = _version_from_query(request, dataset)
        if version.status != DatasetVersion.Status.READY:
            return Response({"detail": f"Version {version.number} is {version.status}, not ready."},
                            status=status.HTTP_409_CONFLICT)
        response = StreamingHttpResponse(selectors.version_export_lines(version), content_type="application/jsonl")
        response["Content-Disposition"] = f'attachment; filename="{selectors.export_filename(version)}"'
        return response


class DatasetFilesApi(APIView):
    """Add files to a dataset: a new version made of the latest ready version plus these files."""

    parser_classes = [MultiPartParser, FormParser]
    required_action = "datasets.manage"

    @extend_schema(request={"multipart/form-data": UploadInput}, responses=UPLOAD_RESPONSES)
    def post(self, request, pk: int):
        dataset = selectors.dataset_for(membership=request.membership, pk=pk, action="datasets.manage")
        return _upload(request, UploadInput, lambda data: services.dataset_add_files(
            dataset=dataset, user=request.user, files=data["files"], options=data["options"]))


class VersionInput(InputSerializer):
    version = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1, max_value=ID_MAX,
                                       help_text="The version to start from; default the latest.")


class SplitInput(VersionInput):
    validation_fraction = serializers.FloatField(
        default=0.1, min_value=0.001, max_value=0.999, help_text="Share of records for validation, between 0 and 1.",
        error_messages=dict.fromkeys(("min_value", "max_value"), "Choose a validation fraction between 0 and 1 (e.g. 0.1)."))
    seed = seed_api_field(default=0, help_text="The same seed gives the same split.")


class _VersionOperationApi(APIView):
    """POST makes a new version from an existing one (admins)."""

    required_action = "datasets.manage"
    input_class = VersionInput

    def operate(self, version, user, data) -> DatasetVersion:
        raise NotImplementedError

    def post(self, request, pk: int):
        dataset = selectors.dataset_for(membership=request.membership, pk=pk, action="datasets.manage")
        data = self.input_class(data=request.data)
        data.is_valid(raise_exception=True)
        version = selectors.version_get(dataset=dataset, number=data.validated_data.pop("version"))
        new = self.operate(version, request.user, data.validated_data)  # errors: core.api's handler
        return Response(VersionOutput(new).data, status=status.HTTP_201_CREATED)


class DatasetDedupeApi(_VersionOperationApi):
    """A new version without exact duplicates (the first of each stays); `stats.removed_duplicates` says how many went."""

    @extend_schema(request=VersionInput, responses={201: VersionOutput, 400: OpenApiResponse(description="Version not ready.")})
    def post(self, request, pk: int):
        return super().post(request, pk)

    def operate(self, version, user, data):
        return services.version_deduplicate(version=version, user=user)


class DatasetSplitApi(_VersionOperationApi):
    """A new version with each record labelled train or validation, reproducibly from the seed."""

    input_class = SplitInput

    @extend_schema(request=SplitInput, responses={201: VersionOutput, 400: OpenApiResponse(description="Bad fraction or version not ready.")})
    def post(self, request, pk: int):
        return super().post(request, pk)

    def operate(self, version, user, data):
        return services.version_split(version=version, user=user, **data)


class FromArticlesInput(InputSerializer):
    articles = serializers.ListField(
        child=id_field(), allow_empty=True, max_length=services.MAX_ARTICLES,
        help_text="Ids of approved or published articles of this workspace, none of them already in the latest "
        "ready version.",
    )
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=200,
                                 help_text="Shown with the new version.")


class DatasetFromArticlesApi(APIView):
    """Add approved articles as a new version (editors): the latest ready version's records plus one record
    per article, pairing its final text with the prompt (and system prompt) of the generation that produced
    it, in the dataset's shape. Each new record's `article` names its article."""

    required_action = "articles.to_dataset"

    @extend_schema(request=FromArticlesInput, responses={
        201: VersionOutput,
        400: OpenApiResponse(description="{field: [message]}: no articles, an article not approved, of "
                             "another workspace or already in the dataset; nothing was stored."),
    })
    def post(self, request, pk: int):
        dataset = selectors.dataset_for(membership=request.membership, pk=pk, action="articles.to_dataset")
        data = FromArticlesInput(data=request.data)
        data.is_valid(raise_exception=True)
        version = services.version_from_articles(  # errors: core.api's handler
            dataset=dataset, articles=data.validated_data["articles"], membership=request.membership,
            note=data.validated_data["note"],
        )
        return Response(VersionOutput(version).data, status=status.HTTP_201_CREATED)
