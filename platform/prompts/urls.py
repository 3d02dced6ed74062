from django.urls import path

from prompts import views

urlpatterns = [
    path("", views.prompt_index, name="prompt_list"),
    path("new/", views.prompt_create, name="prompt_create"),
    path("preview/", views.prompt_preview, name="prompt_preview"),
    path("variable-rows/", views.prompt_variable_rows, name="prompt_variable_rows"),
    path("<id:pk>/", views.prompt_detail, name="prompt_detail"),
    path("<id:pk>/edit/", views.prompt_edit, name="prompt_edit"),
    path("<id:pk>/diff/", views.prompt_diff, name="prompt_diff"),
    path("<id:pk>/delete/", views.prompt_delete, name="prompt_delete"),
    path("<id:pk>/versions/<id:number>/restore/", views.prompt_restore, name="prompt_restore"),
]
