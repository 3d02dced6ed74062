"""REST API routes of this app, included under /api/."""

from django.urls import path

from training import api

urlpatterns = [
    path("trainings/", api.TrainingListApi.as_view(), name="api-training-list"),
    path("trainings/estimate/", api.TrainingEstimateApi.as_view(), name="api-training-estimate"),
    path("trainings/<id:pk>/", api.TrainingDetailApi.as_view(), name="api-training-detail"),
    path("trainings/<id:pk>/cancel/", api.TrainingCancelApi.as_view(), name="api-training-cancel"),
    path("trainings/<id:pk>/resume/", api.TrainingResumeApi.as_view(), name="api-training-resume"),
]
