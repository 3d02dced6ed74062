from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView, ListAPIView
from rest_framework.response import Response

from accounts.permissions import check_object
from catalog import services
from catalog.models import DESCRIPTION_MAX_LENGTH, NAME_MAX_LENGTH, SOURCE_MAX_LENGTH, ModelVersion
from catalog.selectors import model_list
from core.api import InputSerializer, query_choice


class ModelInput(InputSerializer):
    name = serializers.CharField(max_length=NAME_MAX_LENGTH, help_text="Letters, digits, dots, dashes, underscores; fixed once created.")
    source = serializers.CharField(max_length=SOURCE_MAX_LENGTH, help_text="Model or LoRA adapter directory, .gguf file, or cached hub id.")
    description = serializers.CharField(required=False, allow_blank=True, default="", max_length=DESCRIPTION_MAX_LENGTH)


class ModelPatch(InputSerializer):
    description = serializers.CharField(allow_blank=True, max_length=DESCRIPTION_MAX_LENGTH)


class PromoteInput(InputSerializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=DESCRIPTION_MAX_LENGTH,
                                   help_text="Why writers should use it; required when the evaluation shows no improvement.")


class ModelOutput(serializers.ModelSerializer):
    metrics = serializers.DictField(read_only=True, help_text="Training metrics of a fine-tune (val_loss, ...).")
    evaluation = serializers.DictField(read_only=True, help_text="Base vs tuned on held-out records ({} if none).")
    promoted_by = serializers.CharField(source="promoted_by.username", default=None, allow_null=True, read_only=True,
                                        help_text="Who promoted it (null for a candidate, or a user since removed).")

    class Meta:
        model = ModelVersion
        fields = ["id", "name", "kind", "status", "source", "spec", "base", "description", "metrics", "evaluation",
                  "metadata", "promoted_at", "promoted_by", "promotion_reason", "created_at"]


class ModelListApi(ListAPIView):
    """Models of this workspace (`model` in POST /api/generations/ takes the name of a promoted
    one, or "default" for the bundled model, which is not listed). Admins add them; training runs
    add candidates, which writers can use once an admin promotes them (`?status=`)."""

    required_action = "models.view"
    required_actions = {"POST": "models.manage"}
    serializer_class = ModelOutput

    def get_queryset(self):
        kind = query_choice(self.request, "kind", ModelVersion.Kind.values)
        status_ = query_choice(self.request, "status", ModelVersion.Status.values)
        return model_list(workspace=self.request.membership.workspace,
                          search=self.request.query_params.get("search", ""), kind=kind, status=status_)

    @extend_schema(parameters=[
        OpenApiParameter("search", str, description="Name, description or source contains."),
        OpenApiParameter("kind", str, enum=ModelVersion.Kind.values),
        OpenApiParameter("status", str, enum=ModelVersion.Status.values),
    ])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(request=ModelInput, responses={201: ModelOutput})
    def post(self, request):
        data = ModelInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            version = services.model_register(workspace=request.membership.workspace, user=request.user, **data.validated_data)
        except services.ModelValidationError as exc:
            raise exc.as_api_error() from None
        return Response(ModelOutput(version).data, status=status.HTTP_201_CREATED)


class ModelDetailApi(GenericAPIView):
    """One model. PATCH changes its description; DELETE removes it from the workspace (and its
    files only when they are a training run's output in the workspace's adapters folder)."""

    required_action = "models.view"
    required_actions = {"PATCH": "models.manage", "DELETE": "models.manage"}
    serializer_class = ModelOutput

    def get_object(self):
        version = get_object_or_404(ModelVersion, pk=self.kwargs["pk"])
        check_object(self.request.membership, version, "models.view")
        return version

    def get(self, request, pk):
        return Response(ModelOutput(self.get_object()).data)

    @extend_schema(request=ModelPatch, responses=ModelOutput)
    def patch(self, request, pk):
        version = self.get_object()
        data = ModelPatch(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(ModelOutput(services.model_update(version=version, **data.validated_data)).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk):
        services.model_delete(version=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class ModelPromoteApi(GenericAPIView):
    """Make a candidate available to writers. A `reason` is required when its evaluation shows
    no improvement (400 naming `reason`); promoting one that is not a candidate is a 400 naming `status`."""

    required_action = "models.promote"
    serializer_class = ModelOutput

    @extend_schema(request=PromoteInput, responses=ModelOutput)
    def post(self, request, pk):
        version = get_object_or_404(ModelVersion, pk=pk)
        check_object(request.membership, version, "models.promote")
        data = PromoteInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            version = services.model_promote(version=version, user=request.user, **data.validated_data)
        except services.ModelValidationError as exc:
            raise exc.as_api_error() from None
        return Response(ModelOutput(version).data)
