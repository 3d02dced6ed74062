"""REST API routes of this app, included under /api/."""

from django.urls import path

from corpora import api

urlpatterns = [
    path("datasets/", api.DatasetListApi.as_view(), name="api-dataset-list"),
    path("datasets/<id:pk>/", api.DatasetDetailApi.as_view(), name="api-dataset-detail"),
    path("datasets/uploads/<id:pk>/", api.DatasetUploadApi.as_view(), name="api-dataset-upload"),
    path("datasets/<id:pk>/records/", api.DatasetRecordsApi.as_view(), name="api-dataset-records"),
    path("datasets/<id:pk>/export/", api.DatasetExportApi.as_view(), name="api-dataset-export"),
    path("datasets/<id:pk>/files/", api.DatasetFilesApi.as_view(), name="api-dataset-files"),
    path("datasets/<id:pk>/dedupe/", api.DatasetDedupeApi.as_view(), name="api-dataset-dedupe"),
    path("datasets/<id:pk>/split/", api.DatasetSplitApi.as_view(), name="api-dataset-split"),
    path("datasets/<id:pk>/versions/from-articles/", api.DatasetFromArticlesApi.as_view(),
         name="api-dataset-from-articles"),
]
