"""REST API routes of this app, included under /api/."""

from django.urls import path

from articles import api

urlpatterns = [
    path("generations/", api.GenerationCreateApi.as_view(), name="api-generation-create"),
    path("generations/<id:pk>/", api.GenerationDetailApi.as_view(), name="api-generation-detail"),
    path("generations/<id:pk>/cancel/", api.GenerationCancelApi.as_view(), name="api-generation-cancel"),
]
