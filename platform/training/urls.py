from django.urls import path

from training import views

app_name = "training"

urlpatterns = [
    path("", views.run_list, name="run_list"),
    path("new/", views.run_new, name="run_new"),
    path("estimate/", views.run_estimate, name="run_estimate"),
    path("<id:pk>/", views.run_detail, name="run_detail"),
    path("<id:pk>/cancel/", views.run_cancel, name="run_cancel"),
    path("<id:pk>/resume/", views.run_resume, name="run_resume"),
]
