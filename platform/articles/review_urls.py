"""The review queue (a top-level section of the navigation)."""

from django.urls import path

from articles import review_views

urlpatterns = [
    path("review/", review_views.review_queue, name="review_queue"),
]
