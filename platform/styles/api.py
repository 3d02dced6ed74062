from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView, ListAPIView
from rest_framework.response import Response

from accounts.permissions import check_object
from catalog.models import NAME_MAX_LENGTH
from core.api import InputSerializer
from core.sampling import StyleParamsSerializer
from styles import services
from styles.models import StyleProfile, StyleProfileVersion
from styles.selectors import style_list

TEXT_MAX = 20_000


def _max(name: str) -> int:
    return StyleProfileVersion._meta.get_field(name).max_length


def _text(**kwargs):
    return serializers.CharField(required=False, allow_blank=True, default="", **kwargs)


class StyleInput(InputSerializer):
    name = serializers.CharField(max_length=120)
    voice = _text(max_length=TEXT_MAX)
    audience = _text(max_length=_max("audience"))
    tone = _text(max_length=_max("tone"))
    reading_level = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1, max_value=16,
                                             help_text="Target US grade level.")
    do_rules = _text(max_length=TEXT_MAX)
    dont_rules = _text(max_length=TEXT_MAX)
    banned_words = _text(max_length=TEXT_MAX)
    examples = _text(max_length=TEXT_MAX)
    default_params = StyleParamsSerializer(required=False, default=dict)
    default_model = _text(max_length=NAME_MAX_LENGTH, help_text='A model name from /api/models/; blank or "default": the workspace default.')
    system_prompt_override = _text(max_length=TEXT_MAX)


class StyleOutput(serializers.ModelSerializer):
    version = serializers.IntegerField(source="current.number")
    voice = serializers.CharField(source="current.voice")
    audience = serializers.CharField(source="current.audience")
    tone = serializers.CharField(source="current.tone")
    reading_level = serializers.IntegerField(source="current.reading_level", allow_null=True)
    do_rules = serializers.CharField(source="current.do_rules")
    dont_rules = serializers.CharField(source="current.dont_rules")
    banned_words = serializers.CharField(source="current.banned_words")
    examples = serializers.CharField(source="current.examples")
    default_params = StyleParamsSerializer(source="current.params")
    default_model = serializers.CharField(source="current.default_model_name", help_text="A model's name; blank: the workspace default.")
    system_prompt_override = serializers.CharField(source="current.system_prompt_override")
    system_prompt = serializers.CharField(source="current.system_prompt", help_text="What generation uses.")

    class Meta:
        model = StyleProfile
        fields = ["id", "name", "version", "voice", "audience", "tone", "reading_level", "do_rules",
                  "dont_rules", "banned_words", "examples", "default_params", "default_model",
                  "system_prompt_override", "system_prompt", "created_at", "updated_at"]


def _input_fields(profile: StyleProfile) -> dict:
    version = profile.current
    return {"name": profile.name, **{name: getattr(version, name) for name in services.VERSIONED_FIELDS},
            "default_model": version.default_model_name}


class StyleListApi(ListAPIView):
    """Style profiles of the current workspace (`?search=`). Editors and admins create them."""

    required_actions = {"POST": "styles.manage"}
    required_action = "styles.view"
    serializer_class = StyleOutput

    def get_queryset(self):
        return style_list(workspace=self.request.membership.workspace, search=self.request.query_params.get("search", ""))

    @extend_schema(request=StyleInput, responses={201: StyleOutput})
    def post(self, request):
        data = StyleInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            profile = services.style_create(workspace=request.membership.workspace, user=request.user, **data.validated_data)
        except services.StyleValidationError as exc:
            raise exc.as_api_error() from None
        return Response(StyleOutput(profile).data, status=status.HTTP_201_CREATED)


class StyleDetailApi(GenericAPIView):
    """One style profile. PATCH saves a new version when anything but the name changes."""

    required_actions = {"PATCH": "styles.manage", "DELETE": "styles.manage"}
    required_action = "styles.view"
    serializer_class = StyleOutput

    def get_object(self):
        profile = get_object_or_404(StyleProfile.objects.select_related("current"), pk=self.kwargs["pk"])
        check_object(self.request.membership, profile, "styles.view")
        return profile

    def get(self, request, pk):
        return Response(StyleOutput(self.get_object()).data)

    @extend_schema(request=StyleInput(partial=True), responses=StyleOutput)
    def patch(self, request, pk):
        profile = self.get_object()
        data = StyleInput(data={**_input_fields(profile), **request.data})
        data.is_valid(raise_exception=True)
        try:
            services.style_update(profile=profile, user=request.user, **data.validated_data)
        except services.StyleValidationError as exc:
            raise exc.as_api_error() from None
        return Response(StyleOutput(profile).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk):
        services.style_delete(profile=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
