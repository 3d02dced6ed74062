from django.urls import path

from styles import views

urlpatterns = [
    path("", views.style_index, name="style_list"),
    path("new/", views.style_create, name="style_create"),
    path("system-prompt/", views.style_system_prompt_preview, name="style_system_prompt_preview"),
    path("<id:pk>/", views.style_detail, name="style_detail"),
    path("<id:pk>/edit/", views.style_edit, name="style_edit"),
    path("<id:pk>/diff/", views.style_diff, name="style_diff"),
    path("<id:pk>/delete/", views.style_delete, name="style_delete"),
    path("<id:pk>/versions/<id:number>/restore/", views.style_restore, name="style_restore"),
]
