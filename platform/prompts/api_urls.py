"""REST API routes of this app, included under /api/."""

from django.urls import path

from prompts import api

urlpatterns = [
    path("prompts/", api.PromptListApi.as_view(), name="api-prompt-list"),
    path("prompts/<id:pk>/", api.PromptDetailApi.as_view(), name="api-prompt-detail"),
    path("prompts/<id:pk>/versions/", api.PromptVersionsApi.as_view(), name="api-prompt-versions"),
    path("prompts/<id:pk>/render/", api.PromptRenderApi.as_view(), name="api-prompt-render"),
]
