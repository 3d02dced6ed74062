from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts import api as accounts_api
from core.api import api_not_found

api_patterns = [
    path("workspaces/", accounts_api.WorkspaceListApi.as_view(), name="workspace-list"),
    path("workspaces/<id:pk>/", accounts_api.WorkspaceDetailApi.as_view(), name="workspace-detail"),
    path("members/", accounts_api.MemberListApi.as_view(), name="member-list"),
    path("", include("prompts.api_urls")),
    path("", include("styles.api_urls")),
    path("", include("corpora.api_urls")),
    path("", include("articles.api_urls")),
    path("", include("catalog.api_urls")),
    path("", include("training.api_urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its init script as a file (CSP: no inline script)
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
    re_path(r"^", api_not_found),  # last: a JSON 404 for any other /api/ path
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include(api_patterns)),
    path("accounts/", include("accounts.urls")),
    path("prompts/", include("prompts.urls")),
    path("styles/", include("styles.urls")),
    path("datasets/", include("corpora.urls")),
    path("write/", include("articles.urls")),
    path("models/", include("catalog.urls")),
    path("training/", include("training.urls")),
    path("", include("articles.review_urls")),
    path("", include("core.urls")),
]
