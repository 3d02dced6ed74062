from django.urls import path

from styles import views

urlpatterns = [
    path("", views.style_index, name="style_list"),
    path("new/", views.style_create, name="style_create"),
    path("system-prompt/", views.style_system_prompt_preview, name="style_system_prompt_preview"),
    path("<int:pk>/", views.style_detail, name="style_detail"),
    path("<int:pk>/edit/", views.style_edit, name="style_edit"),
    path("<int:pk>/diff/", views.style_diff, name="style_diff"),
    path("<int:pk>/delete/", views.style_delete, name="style_delete"),
    path("<int:pk>/versions/<int:number>/restore/", views.style_restore, name="style_restore"),
]
