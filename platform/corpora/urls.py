from django.urls import path

from corpora import views

app_name = "corpora"

urlpatterns = [
    path("", views.dataset_list, name="dataset_list"),
    path("new/", views.dataset_create, name="dataset_create"),
    path("csv-columns/", views.csv_columns, name="csv_columns"),
    path("validate-name/", views.validate_name, name="validate_name"),
    path("add-articles/", views.articles_to_dataset, name="articles_to_dataset"),
    path("uploads/<id:pk>/", views.upload_detail, name="upload_detail"),
    path("uploads/<id:pk>/status/", views.upload_status, name="upload_status"),
    path("<id:pk>/", views.version_detail, name="dataset_detail"),
    path("<id:pk>/edit/", views.dataset_edit, name="dataset_edit"),
    path("<id:pk>/delete/", views.dataset_delete, name="dataset_delete"),
    path("<id:pk>/upload/", views.dataset_add_files, name="dataset_add_files"),
    path("<id:pk>/v<id:number>/", views.version_detail, name="version_detail"),
    path("<id:pk>/v<id:number>/records/", views.version_records, name="version_records"),
    path("<id:pk>/v<id:number>/dedupe/", views.version_dedupe, name="version_dedupe"),
    path("<id:pk>/v<id:number>/split/", views.version_split, name="version_split"),
    path("<id:pk>/v<id:number>/export/", views.version_export, name="version_export"),
]
