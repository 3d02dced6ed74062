"""REST API of training runs: plan, start, list, watch (steps), cancel, resume."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView, ListAPIView
from rest_framework.response import Response

from accounts.permissions import check_object
from core.api import InputSerializer, query_choice
from core.fields import id_field
from corpora.models import Dataset
from training import services
from training.models import TrainingRun, TrainingStep
from training.params import EDITABLE_PARAMS, serializer_field

TrainingParamsInput = type("TrainingParamsInput", (InputSerializer,), {
    "__doc__": "Settings that override the preset's choices (FinetuneParams fields).",
    **{name: serializer_field(name) for name in EDITABLE_PARAMS},
})


class TrainingInput(InputSerializer):
    dataset = id_field(help_text="Dataset id (GET /api/datasets/).")
    version = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1, max_value=10**9,
                                       help_text="Version number; default the latest.")
    base_model = serializers.CharField(required=False, allow_blank=True, default="default", max_length=100,
                                       help_text='A model name from /api/models/, or "default".')
    method = serializers.ChoiceField(choices=TrainingRun.Method.choices, required=False, default=TrainingRun.Method.LORA)
    preset = serializers.ChoiceField(choices=TrainingRun.Preset.choices, required=False, default=TrainingRun.Preset.QUICK)
    name = serializers.CharField(required=False, allow_blank=True, default="", max_length=100,
                                 help_text="Name of the model it makes (and its folder); default from the dataset.")
    params = TrainingParamsInput(required=False, default=dict)
    validation_fraction = serializers.FloatField(required=False, default=0.1, min_value=0, max_value=1,
                                                 help_text="Share held out for validation when the version has no split.")

    def request_for(self, workspace) -> services.RunRequest:
        data = self.validated_data
        dataset = Dataset.objects.filter(pk=data["dataset"], workspace=workspace).first()
        if dataset is None:
            raise serializers.ValidationError({"dataset": ["Not found in this workspace."]})
        versions = dataset.versions.order_by("-number")
        version = versions.filter(number=data["version"]).first() if data["version"] else versions.first()
        if version is None:
            raise serializers.ValidationError({"version": [f"“{dataset.name}” has no such version."]})
        return services.RunRequest(
            dataset_version=version, base_model=data["base_model"], method=data["method"], preset=data["preset"],
            name=data["name"], params=dict(data["params"]), validation_fraction=data["validation_fraction"],
        )


class PlanOutput(serializers.Serializer):
    params = serializers.DictField(help_text="The settings the run uses: the preset's choices and your overrides.")
    reasons = serializers.ListField(child=serializers.CharField(), help_text="What the preset chose and why.")
    train_records = serializers.IntegerField()
    val_records = serializers.IntegerField()
    examples = serializers.IntegerField(help_text="Training examples after tokenizing (and packing).")
    tokens = serializers.IntegerField(help_text="Training tokens over all epochs.")
    optimizer_steps = serializers.IntegerField()
    memory_bytes = serializers.IntegerField(allow_null=True, help_text="Estimated peak training memory.")
    seconds = serializers.FloatField(allow_null=True, help_text="From this installation's measured throughput.")
    rough_seconds = serializers.FloatField(allow_null=True, help_text="From the model's size, when nothing is measured.")
    rough_flop_rate = serializers.FloatField(allow_null=True, required=False, help_text="The compute rate rough_seconds assumes.")
    preset = serializers.CharField()
    stats = serializers.DictField(help_text="What the preset looked at: record lengths (median, p90), kinds.")
    validation = serializers.CharField(help_text="Where the validation records come from.")


class StepOutput(serializers.ModelSerializer):
    class Meta:
        model = TrainingStep
        fields = ["step", "epoch", "train_loss", "val_loss", "learning_rate", "tokens_per_s"]


class TrainingOutput(serializers.ModelSerializer):
    dataset = serializers.IntegerField(source="dataset_version.dataset_id", default=None, allow_null=True)
    version = serializers.IntegerField(source="dataset_version.number", default=None, allow_null=True)
    base_model = serializers.CharField(source="base_label")
    model = serializers.CharField(source="model_version.name", default=None, allow_null=True,
                                  help_text="The candidate model it made (see /api/models/).")
    progress_percent = serializers.IntegerField()
    queue_position = serializers.SerializerMethodField()
    ws_url = serializers.SerializerMethodField()

    class Meta:
        model = TrainingRun
        fields = [
            "id", "name", "status", "dataset", "version", "dataset_label", "data_hash", "base_model", "method",
            "preset", "params", "plan", "validation", "processes", "step", "max_steps", "epoch", "progress_percent",
            "tokens_per_s", "eta_s", "error", "metrics", "evaluation", "model", "queue_position", "ws_url",
            "attempts", "created_at", "started_at", "finished_at",
        ]

    def get_queue_position(self, run) -> int | None:
        return services.queue_position(run)

    def get_ws_url(self, run) -> str:
        return f"/ws/trainings/{run.pk}/"


class TrainingDetailOutput(TrainingOutput):
    steps = StepOutput(many=True, read_only=True)

    class Meta(TrainingOutput.Meta):
        fields = [*TrainingOutput.Meta.fields, "log", "steps"]


def _request(serializer: TrainingInput, membership) -> services.RunRequest:
    serializer.is_valid(raise_exception=True)
    return serializer.request_for(membership.workspace)


class TrainingListApi(ListAPIView):
    """Training runs of this workspace, newest first. POST starts one (admins) on the training
    queue; it answers 201 at once, and the run's steps arrive in GET /api/trainings/{id}/ and on
    its WebSocket."""

    required_action = "training.view"
    required_actions = {"POST": "training.manage"}
    serializer_class = TrainingOutput

    def get_queryset(self):
        runs = TrainingRun.objects.filter(workspace=self.request.membership.workspace).select_related(
            "dataset_version", "model_version")
        status_filter = query_choice(self.request, "status", TrainingRun.Status.values)
        return runs.filter(status=status_filter) if status_filter else runs

    @extend_schema(parameters=[OpenApiParameter("status", str, enum=TrainingRun.Status.values)])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(request=TrainingInput, responses={201: TrainingDetailOutput})
    def post(self, request):
        run_request = _request(TrainingInput(data=request.data), request.membership)
        try:
            run = services.run_create(workspace=request.membership.workspace, user=request.user, request=run_request)
        except services.TrainingError as exc:
            raise exc.as_api_error() from None
        return Response(TrainingDetailOutput(run).data, status=status.HTTP_201_CREATED)


class TrainingEstimateApi(GenericAPIView):
    """What POST /api/trainings/ would do with this body, without starting it: the preset's
    settings and why, tokens, optimizer steps, time and memory."""

    required_action = "training.manage"
    serializer_class = PlanOutput

    @extend_schema(request=TrainingInput, responses={200: PlanOutput})
    def post(self, request):
        run_request = _request(TrainingInput(data=request.data), request.membership)
        try:
            planned = services.run_plan(workspace=request.membership.workspace, request=run_request)
        except services.TrainingError as exc:
            raise exc.as_api_error() from None
        return Response({**planned.plan.to_json(), "validation": planned.validation})


class TrainingRunApi(GenericAPIView):
    required_action = "training.view"
    serializer_class = TrainingDetailOutput

    def get_object(self, action: str = "training.view") -> TrainingRun:
        run = get_object_or_404(TrainingRun.objects.select_related("dataset_version", "model_version"), pk=self.kwargs["pk"])
        check_object(self.request.membership, run, action)
        return run


class TrainingDetailApi(TrainingRunApi):
    """One run with its step metrics (the loss curves) and log."""

    def get(self, request, pk):
        return Response(TrainingDetailOutput(self.get_object()).data)


class TrainingCancelApi(TrainingRunApi):
    """Cancel: a waiting run at once; a running one after its current step, keeping a checkpoint."""

    required_action = "training.manage"

    @extend_schema(request=None, responses=TrainingDetailOutput)
    def post(self, request, pk):
        try:
            run = services.run_cancel(run=self.get_object("training.manage"))
        except services.TrainingError as exc:
            raise exc.as_api_error() from None
        return Response(TrainingDetailOutput(run).data)


class TrainingResumeApi(TrainingRunApi):
    """Queue an interrupted, cancelled or failed run again: it goes on from its last checkpoint."""

    required_action = "training.manage"

    @extend_schema(request=None, responses=TrainingDetailOutput)
    def post(self, request, pk):
        try:
            run = services.run_resume(run=self.get_object("training.manage"))
        except services.TrainingError as exc:
            raise exc.as_api_error() from None
        return Response(TrainingDetailOutput(run).data)

