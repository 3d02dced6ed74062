from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from accounts.permissions import check
from articles import services
from articles.models import Generation
from core.api import InputSerializer, too_many
from core.fields import id_field
from core.sampling import GenerationParamsSerializer, seed_api_field
from prompts.models import PromptTemplate
from styles.models import StyleProfile

MAX_VARIABLES = 100


class GenerationInput(InputSerializer):
    template = id_field(required=False, allow_null=True, help_text="Prompt template id.")
    variables = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=services.MAX_PROMPT_CHARS), required=False, default=dict,
        help_text=f"Values of the template's variables, by name (at most {MAX_VARIABLES}).",
    )
    prompt = serializers.CharField(required=False, allow_blank=True, default="", max_length=services.MAX_PROMPT_CHARS,
                                   help_text="A free prompt (without a template).")
    rewrite_text = serializers.CharField(required=False, allow_blank=True, default="", max_length=services.MAX_PROMPT_CHARS,
                                         help_text="A text to rewrite in the style.")
    style = id_field(required=False, allow_null=True, help_text="Style profile id.")
    model = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=100,
        help_text='A model name from /api/models/, or "default". Blank: the style\'s model, else the default.',
    )
    params = GenerationParamsSerializer(required=False, default=dict)
    variants = serializers.IntegerField(required=False, default=1, min_value=1, max_value=services.MAX_VARIANTS)
    seed = seed_api_field(required=False, allow_null=True, default=None)
    title = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)

    def validate_variables(self, value):
        if len(value) > MAX_VARIABLES:
            raise serializers.ValidationError(f"At most {MAX_VARIABLES} variables.")
        return value


class GenerationOutput(serializers.ModelSerializer):
    prefix = serializers.CharField(read_only=True, help_text="The earlier text this run goes on from (a retry or "
                                   "'continue writing'); the whole text is prefix + text.")
    ws_url = serializers.SerializerMethodField()
    template_version = serializers.IntegerField(source="template_version.number", default=None, allow_null=True)
    template = serializers.IntegerField(source="template_version.template_id", default=None, allow_null=True)
    style_version = serializers.IntegerField(source="style_version.number", default=None, allow_null=True)
    style = serializers.IntegerField(source="style_version.profile_id", default=None, allow_null=True)
    model = serializers.CharField(source="model_version.name", default=None, allow_null=True,
                                  help_text="The model's name in this workspace; null for the default model "
                                            "(or one since removed: model_name says what was loaded).")

    class Meta:
        model = Generation
        fields = [
            "id", "article", "variant", "kind", "status", "prefix", "text", "seq", "error", "ws_url",
            "model", "model_name", "template", "template_version", "style", "style_version", "variables",
            "prompt", "system_prompt", "params", "seed",
            "prompt_tokens", "completion_tokens", "time_to_first_token_s", "tokens_per_s", "finish_reason",
            "created_at", "started_at", "finished_at",
        ]

    def get_ws_url(self, generation) -> str:
        return f"/ws/generations/{generation.pk}/"


class CreatedOutput(serializers.Serializer):
    id = serializers.IntegerField(help_text="The first generation's id.")
    ws_url = serializers.CharField()
    article = serializers.IntegerField()
    generations = GenerationOutput(many=True)


def _in_workspace(model, pk, membership, field):
    """The current version of a template or style of the caller's workspace (400 otherwise)."""
    if pk is None:
        return None
    obj = model.objects.filter(pk=pk, workspace=membership.workspace).select_related("current").first()
    if obj is None:
        raise ValidationError({field: [f"No {field} {pk} in this workspace."]})
    return obj.current


class GenerationCreateApi(GenericAPIView):
    """Start a draft: a template with variables, a free prompt, or a text to rewrite."""

    serializer_class = GenerationOutput
    required_action = "drafts.create"

    @extend_schema(request=GenerationInput, responses={201: CreatedOutput})
    def post(self, request):
        data = GenerationInput(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data
        membership = request.membership
        draft = services.DraftRequest(
            title=d["title"], template_version=_in_workspace(PromptTemplate, d.get("template"), membership, "template"),
            variables=d["variables"], prompt=d["prompt"], rewrite_text=d["rewrite_text"],
            style_version=_in_workspace(StyleProfile, d.get("style"), membership, "style"),
            model=d["model"], params=dict(d["params"]), variants=d["variants"], seed=d["seed"],
        )
        try:
            article = services.draft_create(workspace=membership.workspace, user=request.user, request=draft)
        except services.RateLimited as exc:
            raise too_many(str(exc), exc.retry_after) from None
        except services.DraftError as exc:
            raise exc.as_api_error() from None
        generations = list(article.generations.select_related("template_version", "style_version", "model_version").order_by("variant"))
        first = generations[0]
        body = {"id": first.pk, "ws_url": f"/ws/generations/{first.pk}/", "article": article.pk,
                "generations": GenerationOutput(generations, many=True).data}
        return Response(body, status=status.HTTP_201_CREATED)


class GenerationDetailApi(GenericAPIView):
    """Status, text so far, usage and provenance of one generation."""

    serializer_class = GenerationOutput

    action = "drafts.view"

    def get_object(self):
        generation = get_object_or_404(
            Generation.objects.select_related("article", "template_version", "style_version", "model_version"),
            pk=self.kwargs["pk"])
        check(self.request.membership, self.action, generation)
        return generation

    def get(self, request, pk):
        services.generations_sweep_stale()
        return Response(GenerationOutput(self.get_object()).data)


class GenerationCancelApi(GenerationDetailApi):
    """Stop a generation; what was written so far is kept."""

    http_method_names = ["post"]
    action = "generations.cancel"

    @extend_schema(request=None, responses=GenerationOutput)
    def post(self, request, pk):
        generation = self.get_object()
        return Response(GenerationOutput(services.generation_cancel(generation=generation)).data)
