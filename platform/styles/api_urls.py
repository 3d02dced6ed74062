"""REST API routes of this app, included under /api/."""

from django.urls import path

from styles import api

urlpatterns = [
    path("styles/", api.StyleListApi.as_view(), name="api-style-list"),
    path("styles/<id:pk>/", api.StyleDetailApi.as_view(), name="api-style-detail"),
]
