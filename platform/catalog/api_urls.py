"""REST API routes of this app, included under /api/."""

from django.urls import path

from catalog import api

urlpatterns = [
    path("models/", api.ModelListApi.as_view(), name="api-model-list"),
    path("models/<id:pk>/", api.ModelDetailApi.as_view(), name="api-model-detail"),
    path("models/<id:pk>/promote/", api.ModelPromoteApi.as_view(), name="api-model-promote"),
]
