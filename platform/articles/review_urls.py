"""The review queue and the published list (top-level sections of the navigation)."""

from django.urls import path

from articles import review_views

urlpatterns = [
    path("review/", review_views.review_queue, name="review_queue"),
    path("published/", review_views.published_list, name="published_list"),
]
