"""REST API routes of this app, included under /api/."""

from django.urls import path

from articles import api, article_api

urlpatterns = [
    path("generations/", api.GenerationCreateApi.as_view(), name="api-generation-create"),
    path("generations/<id:pk>/", api.GenerationDetailApi.as_view(), name="api-generation-detail"),
    path("generations/<id:pk>/cancel/", api.GenerationCancelApi.as_view(), name="api-generation-cancel"),
    path("articles/", article_api.ArticleListApi.as_view(), name="api-article-list"),
    path("articles/<id:pk>/", article_api.ArticleDetailApi.as_view(), name="api-article-detail"),
    path("articles/<id:pk>/transition/", article_api.ArticleTransitionApi.as_view(), name="api-article-transition"),
    path("articles/<id:pk>/revisions/", article_api.ArticleRevisionsApi.as_view(), name="api-article-revisions"),
    path("articles/<id:pk>/revisions/<id:number>/", article_api.ArticleRevisionApi.as_view(), name="api-article-revision"),
    path("articles/<id:pk>/comments/", article_api.ArticleCommentsApi.as_view(), name="api-article-comments"),
]
