from django.urls import path

from articles import review_views, views

urlpatterns = [
    path("", views.write_index, name="write"),
    path("new/", views.draft_new, name="draft_new"),
    path("template-fields/", views.template_fields, name="draft_template_fields"),
    path("articles/<id:pk>/", views.article_detail, name="article_detail"),
    path("mine/", review_views.my_drafts, name="my_drafts"),
    path("articles/<id:pk>/transition/<str:action>/", review_views.article_transition_view, name="article_transition"),
    path("articles/<id:pk>/use/<id:generation_pk>/", views.article_choose, name="article_choose"),
    path("generations/<id:pk>/cancel/", views.generation_cancel, name="generation_cancel"),
    path("generations/<id:pk>/<str:kind>/", views.generation_again, name="generation_again"),
]
