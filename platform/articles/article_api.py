"""REST API of articles: list and filter, detail (revisions, timeline, provenance), saving with
the version check, workflow transitions, revisions and comments. Thin over articles' services:
the workflow, the version check and every message come from them."""

from django.shortcuts import get_object_or_404
from django.urls import NoReverseMatch, reverse
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView, ListAPIView
from rest_framework.response import Response

from accounts.permissions import check
from articles import comments, review_selectors, selectors, workflow
from articles.models import Article, Comment, Generation, Transition
from articles.revisions import EditConflict, article_save
from core.api import InputSerializer, VersionOutput
from core.errors import FieldErrors
from core.fields import ID_MAX
from core.text import unstorable_reason

USERNAME = {"source": "created_by.username", "default": None, "allow_null": True}


class ArticleOutput(serializers.ModelSerializer):
    created_by = serializers.CharField(**USERNAME)

    class Meta:
        model = Article
        fields = ["id", "title", "status", "slug", "revision", "created_by", "created_at", "updated_at",
                  "published_at", "publish_at", "unpublish_at"]


class ArticleListOutput(ArticleOutput):
    submitted_at = serializers.DateTimeField(help_text="Its latest submission for review; never submitted: its creation.")
    machine_share = serializers.FloatField(allow_null=True, help_text="Share of the current text still machine-written "
                                                                      "(0-1); null before any save.")

    class Meta(ArticleOutput.Meta):
        fields = [*ArticleOutput.Meta.fields, "submitted_at", "machine_share"]


class RevisionOutput(VersionOutput):
    """One saved state of the article (its text: GET …/revisions/{number}/)."""

    title = serializers.CharField()
    machine_share = serializers.FloatField(help_text="Share of its text still machine-written (0-1).")
    generation = serializers.IntegerField(source="generation_id", allow_null=True,
                                          help_text="The generation whose text it took in, if any.")


class RevisionDetailOutput(RevisionOutput):
    """One saved state of the article, with its text and who wrote which part of it."""

    body = serializers.CharField()
    authorship = serializers.JSONField(help_text='Runs of [characters, "machine" | "human"] covering the body in order.')


class TransitionOutput(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username", default=None, allow_null=True,
                                  help_text="Who made it; null for the scheduler.")

    class Meta:
        model = Transition
        fields = ["action", "from_status", "to_status", "actor", "comment", "revision", "created_at"]


class ProvenanceGenerationOutput(serializers.ModelSerializer):
    model = serializers.CharField(source="model_version.name", default=None, allow_null=True,
                                  help_text="The model's name in this workspace; null for the default model "
                                            "(model_name says what was loaded).")
    template = serializers.IntegerField(source="template_version.template_id", default=None, allow_null=True)
    template_version = serializers.IntegerField(source="template_version.number", default=None, allow_null=True)
    style = serializers.IntegerField(source="style_version.profile_id", default=None, allow_null=True)
    style_version = serializers.IntegerField(source="style_version.number", default=None, allow_null=True)

    class Meta:
        model = Generation
        fields = ["id", "variant", "kind", "model", "model_name", "template", "template_version", "style",
                  "style_version", "params", "seed", "style_fit"]


class ProvenanceOutput(serializers.Serializer):
    generations = ProvenanceGenerationOutput(many=True, help_text="Each generation whose text went into the article.")
    machine_share = serializers.FloatField(allow_null=True, help_text="Share of the current text still "
                                                                      "machine-written (0-1); null before any save.")
    human_share = serializers.FloatField(allow_null=True)


class CommentOutput(serializers.ModelSerializer):
    author = serializers.CharField(source="author.username", default=None, allow_null=True)

    class Meta:
        model = Comment
        fields = ["id", "author", "body", "quote", "revision", "created_at"]


class ArticleDetailOutput(ArticleOutput):
    public_url = serializers.SerializerMethodField()
    allowed_actions = serializers.SerializerMethodField()
    revisions = RevisionOutput(many=True, read_only=True, help_text="Newest first; GET …/revisions/{number}/ has the text.")
    timeline = TransitionOutput(source="transitions", many=True, read_only=True)
    provenance = serializers.SerializerMethodField()

    class Meta(ArticleOutput.Meta):
        fields = [*ArticleOutput.Meta.fields, "body", "public_url", "allowed_actions", "revisions", "timeline",
                  "provenance"]

    def get_public_url(self, article) -> str | None:
        """Its public page, while published."""
        if article.status != Article.Status.PUBLISHED or not article.slug:
            return None
        try:
            path = reverse("publishing_article", args=[article.workspace.slug, article.slug])
        except NoReverseMatch:  # the public pages (publishing) are not installed
            return None
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path

    def get_allowed_actions(self, article) -> list[str]:
        """The transitions the caller may make now (POST …/transition/)."""
        request = self.context.get("request")
        return workflow.allowed_moves(getattr(request, "membership", None), article)

    @extend_schema_field(ProvenanceOutput)
    def get_provenance(self, article) -> dict:
        return ProvenanceOutput(selectors.article_provenance(article)).data


# --------------------------------------------------------------------------- input


class ArticleSaveInput(InputSerializer):
    title = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False,
                                  help_text="Default: unchanged.")
    body = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False,
                                 help_text="The whole Markdown text. Default: unchanged.")
    revision = serializers.IntegerField(min_value=0, max_value=ID_MAX,
                                        help_text="The revision this edit started from (the article's `revision` "
                                                  "when you read it): a save from an older one answers 409.")
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=200,
                                 help_text="What changed, for the history.")


TRANSITION_ACTIONS = list(workflow.MOVES)  # (the schema's ArticleActionEnum)


class TransitionInput(InputSerializer):
    action = serializers.ChoiceField(choices=TRANSITION_ACTIONS, help_text="submit (writers, their own articles), "
                                     "request_changes, reject, approve, publish, unpublish, archive, reopen (editors).")
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=5_000,
                                    help_text="Why: shown on the timeline.")


class CommentInput(InputSerializer):
    body = serializers.CharField(allow_blank=True, trim_whitespace=False)
    quote = serializers.CharField(required=False, allow_blank=True, default="", trim_whitespace=False,
                                  help_text="The passage of the current text it is about, if any.")


EditConflictOutput = inline_serializer("EditConflict", {
    "detail": serializers.CharField(),
    "base_revision": serializers.IntegerField(help_text="The revision your edit started from."),
    "latest_revision": serializers.IntegerField(help_text="Save again with this as `revision`."),
    "saved_by": serializers.CharField(allow_null=True, help_text="Who saved the latest revision."),
    "saved_at": serializers.DateTimeField(allow_null=True),
    "latest_title": serializers.CharField(),
    "latest_body": serializers.CharField(),
    "your_title": serializers.CharField(help_text="Your refused text, to merge."),
    "your_body": serializers.CharField(),
})
TransitionRefusedOutput = inline_serializer("TransitionNotAllowed", {
    "detail": serializers.CharField(),
    "status": serializers.ChoiceField(choices=Article.Status.choices, help_text="The article's status now."),
    "allowed_actions": serializers.ListField(child=serializers.CharField(), help_text="What you may do instead."),
})


# --------------------------------------------------------------------------- views

def _int_parameter(name: str, description: str, minimum: int, maximum: int) -> OpenApiParameter:
    return OpenApiParameter(name, {"type": "integer", "minimum": minimum, "maximum": maximum}, description=description)


LIST_PARAMETERS = [
    OpenApiParameter("status", str, enum=Article.Status.values),
    _int_parameter("writer", "Written by this user (id).", 1, ID_MAX),
    _int_parameter("template", "Drafted from this prompt template (id).", 1, ID_MAX),
    _int_parameter("style", "Drafted in this style profile (id).", 1, ID_MAX),
    OpenApiParameter("model", str, description='Drafted by this model: a name from /api/models/, or "default".'),
    _int_parameter("older_than_days", "Submitted (never submitted: started) at least this many days ago.",
                   0, review_selectors.MAX_AGE_DAYS),
    _int_parameter("newer_than_days", "Submitted (never submitted: started) less than this many days ago.",
                   0, review_selectors.MAX_AGE_DAYS),
    OpenApiParameter("q", str, description="Words in the title."),
    OpenApiParameter("sort", str, enum=list(review_selectors.SORTS),
                     description="submitted (the default: oldest submission first), -submitted or -updated."),
]


class ArticleListApi(ListAPIView):
    """The workspace's articles, filtered by the query parameters as the review queue filters
    them (400 names a bad one)."""

    required_action = "drafts.view"
    serializer_class = ArticleListOutput

    def get_queryset(self):
        params = {name: self.request.query_params[name] for name in review_selectors.FILTER_KEYS
                  if name in self.request.query_params}
        errors = {}
        for name, value in params.items():
            if value == "" and name != "q":  # (a form's "any"; here, leave the parameter out)
                errors[name] = "Give a value, or leave the parameter out."
            elif reason := unstorable_reason(value):
                errors[name] = f"The value {reason}."
        if errors:
            raise FieldErrors(errors)
        return review_selectors.articles_filtered(self.request.membership.workspace, params)

    @extend_schema(parameters=LIST_PARAMETERS)
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class ArticleApi(GenericAPIView):
    """Base: the article named in the path, if the caller's workspace has it (404 otherwise)."""

    required_action = "drafts.view"
    serializer_class = ArticleDetailOutput

    def get_article(self) -> Article:
        article = get_object_or_404(Article.objects.select_related("created_by", "workspace"), pk=self.kwargs["pk"])
        check(self.request.membership, "drafts.view", article)
        return article

    def detail(self, article: Article, code: int = status.HTTP_200_OK) -> Response:
        article = (Article.objects.select_related("created_by", "workspace")
                   .prefetch_related("revisions__created_by", "transitions__actor").get(pk=article.pk))
        return Response(ArticleDetailOutput(article, context={"request": self.request}).data, status=code)


class ArticleDetailApi(ArticleApi):
    """One article: its text, revisions (without their text), timeline and provenance. PATCH saves
    title and/or text as the next revision, if `revision` is still the latest."""

    def get(self, request, pk):
        return self.detail(self.get_article())

    @extend_schema(request=ArticleSaveInput, responses={
        200: ArticleDetailOutput,
        409: OpenApiResponse(EditConflictOutput, description="Someone saved since your revision; nothing was saved."),
    })
    def patch(self, request, pk):
        article = self.get_article()
        data = ArticleSaveInput(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data
        try:
            article_save(article=article, membership=request.membership, title=d.get("title", article.title),
                         body=d.get("body", article.body), base_revision=d["revision"], note=d["note"])
        except EditConflict as conflict:
            latest = conflict.latest
            return Response({
                "detail": str(conflict), "base_revision": conflict.base_revision,
                "latest_revision": latest.number if latest else 0,
                "saved_by": latest.created_by.username if latest and latest.created_by else None,
                "saved_at": latest.created_at if latest else None,
                "latest_title": latest.title if latest else article.title,
                "latest_body": latest.body if latest else article.body,
                "your_title": conflict.title, "your_body": conflict.body,
            }, status=status.HTTP_409_CONFLICT)
        return self.detail(article)


class ArticleTransitionApi(ArticleApi):
    """Move the article along the workflow. 403 when your role may not make this move (whatever
    the state), 409 when the move is not possible from the article's current status."""

    @extend_schema(request=TransitionInput, responses={
        200: ArticleDetailOutput,
        409: OpenApiResponse(TransitionRefusedOutput, description="Not possible from the current status."),
    })
    def post(self, request, pk):
        article = self.get_article()
        data = TransitionInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            workflow.article_transition(article=article, action=data.validated_data["action"],
                                        membership=request.membership, comment=data.validated_data["comment"])
        except workflow.TransitionNotAllowed as exc:
            article.refresh_from_db()
            return Response({"detail": str(exc), "status": article.status,
                             "allowed_actions": workflow.allowed_moves(request.membership, article)},
                            status=status.HTTP_409_CONFLICT)
        return self.detail(article)


class ArticleRevisionsApi(ArticleApi, ListAPIView):
    """The article's revisions, newest first (without their text)."""

    serializer_class = RevisionOutput

    def get_queryset(self):
        return self.get_article().revisions.select_related("created_by").order_by("-number")


class ArticleRevisionApi(ArticleApi):
    """One revision with its text and authorship runs ([characters, "machine" | "human"], in order)."""

    serializer_class = RevisionDetailOutput

    def get(self, request, pk, number):
        revision = get_object_or_404(self.get_article().revisions.select_related("created_by"), number=number)
        return Response(RevisionDetailOutput(revision).data)


class ArticleCommentsApi(ArticleApi, ListAPIView):
    """Comments on the article, oldest first. POST adds one (optionally quoting a passage of the
    current text)."""

    serializer_class = CommentOutput
    required_actions = {"POST": "articles.comment"}

    def get_queryset(self):
        return self.get_article().comments.select_related("author").order_by("created_at", "pk")

    @extend_schema(request=CommentInput, responses={201: CommentOutput})
    def post(self, request, pk):
        article = self.get_article()
        data = CommentInput(data=request.data)
        data.is_valid(raise_exception=True)
        comment = comments.comment_add(article=article, membership=request.membership, **data.validated_data)
        return Response(CommentOutput(comment).data, status=status.HTTP_201_CREATED)
