"""REST API routes of this app, included under /api/."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
