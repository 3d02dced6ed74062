from django.urls import path

from catalog import views

app_name = "catalog"

urlpatterns = [
    path("", views.model_index, name="model_list"),
    path("new/", views.model_create, name="model_create"),
    path("compare/", views.model_compare, name="model_compare"),
    path("<id:pk>/", views.model_detail, name="model_detail"),
    path("<id:pk>/promote/", views.model_promote, name="model_promote"),
    path("<id:pk>/download/", views.model_download, name="model_download"),
    path("<id:pk>/delete/", views.model_delete, name="model_delete"),
]
