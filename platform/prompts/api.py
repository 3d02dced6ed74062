from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView, ListAPIView
from rest_framework.response import Response

from accounts.permissions import check, check_object
from core.api import InputSerializer, VersionOutput, query_choice
from prompts import services
from prompts.models import Category, PromptTemplate
from prompts.rendering import fill_values, render
from prompts.selectors import prompt_list


class VariableSerializer(InputSerializer):
    name = serializers.CharField(max_length=64)
    label = serializers.CharField(required=False, allow_blank=True, max_length=120)
    type = serializers.ChoiceField(choices=["text", "long_text", "number", "choice"], default="text")
    default = serializers.CharField(required=False, allow_blank=True, max_length=500)
    required = serializers.BooleanField(default=True)
    choices = serializers.ListField(child=serializers.CharField(max_length=200), required=False, max_length=50)


class PromptInput(InputSerializer):
    name = serializers.CharField(max_length=120)
    category = serializers.ChoiceField(choices=Category.choices, default=Category.FREE)
    body = serializers.CharField(trim_whitespace=False, max_length=20_000)
    variables = VariableSerializer(many=True, required=False, default=list, max_length=50)


class PromptVersionOutput(VersionOutput):
    """One saved state of a template."""

    body = serializers.CharField()
    variables = VariableSerializer(many=True)


class PromptOutput(serializers.ModelSerializer):
    version = serializers.IntegerField(source="current.number")
    body = serializers.CharField(source="current.body")
    variables = VariableSerializer(source="current.variables", many=True)
    created_by = serializers.CharField(source="created_by.username", default=None, allow_null=True)

    class Meta:
        model = PromptTemplate
        fields = ["id", "name", "category", "version", "body", "variables", "created_by", "created_at", "updated_at"]


class RenderInput(InputSerializer):
    values = serializers.DictField(child=serializers.CharField(allow_blank=True), default=dict)


class RenderOutput(serializers.Serializer):
    prompt = serializers.CharField()


def _raise_validation(exc: services.PromptValidationError):
    raise exc.as_api_error()


class PromptListApi(ListAPIView):
    """Prompt templates of the current workspace. Filter with `?search=` and `?category=`."""

    required_actions = {"POST": "prompts.create"}
    required_action = "prompts.view"
    serializer_class = PromptOutput

    def get_queryset(self):
        return prompt_list(
            workspace=self.request.membership.workspace,
            search=self.request.query_params.get("search", ""),
            category=query_choice(self.request, "category", Category.values),
        )

    @extend_schema(parameters=[
        OpenApiParameter("search", str, description="Part of the name or text."),
        OpenApiParameter("category", str, enum=Category.values),
    ])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(request=PromptInput, responses={201: PromptOutput})
    def post(self, request):
        data = PromptInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            template = services.prompt_create(workspace=request.membership.workspace, user=request.user, **data.validated_data)
        except services.PromptValidationError as exc:
            _raise_validation(exc)
        return Response(PromptOutput(template).data, status=status.HTTP_201_CREATED)


class PromptDetailApi(GenericAPIView):
    """One template. PATCH saves a new version when the text or variables change."""

    serializer_class = PromptOutput

    def get_object(self):
        template = get_object_or_404(PromptTemplate.objects.select_related("current"), pk=self.kwargs["pk"])
        check_object(self.request.membership, template, "prompts.view")
        return template

    def get(self, request, pk):
        return Response(PromptOutput(self.get_object()).data)

    @extend_schema(request=PromptInput(partial=True), responses=PromptOutput)
    def patch(self, request, pk):
        template = self.get_object()
        check(self.request.membership, "prompts.change", template)
        current = {"name": template.name, "category": template.category, "body": template.current.body, "variables": template.current.variables}
        data = PromptInput(data={**current, **request.data})
        data.is_valid(raise_exception=True)
        try:
            services.prompt_update(template=template, user=request.user, **data.validated_data)
        except services.PromptValidationError as exc:
            _raise_validation(exc)
        return Response(PromptOutput(template).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk):
        template = self.get_object()
        check(self.request.membership, "prompts.change", template)
        services.prompt_delete(template=template)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PromptVersionsApi(PromptDetailApi):
    """Every version of a template, newest first."""

    pagination_class = None
    serializer_class = PromptVersionOutput
    http_method_names = ["get"]

    @extend_schema(responses=PromptVersionOutput(many=True))
    def get(self, request, pk):
        template = self.get_object()
        return Response(PromptVersionOutput(template.versions.select_related("created_by"), many=True).data)


class PromptRenderApi(PromptDetailApi):
    """The final prompt for the given variable values (400 names the missing or bad ones)."""

    serializer_class = RenderOutput
    http_method_names = ["post"]

    @extend_schema(request=RenderInput, responses=RenderOutput)
    def post(self, request, pk):
        template = self.get_object()
        data = RenderInput(data=request.data)
        data.is_valid(raise_exception=True)
        values, errors = fill_values(template.current.variable_list(), data.validated_data["values"])
        if errors:
            raise ValidationError({"values": errors})
        return Response({"prompt": render(template.current.body, values)})
