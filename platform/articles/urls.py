from django.urls import path

from articles import editing_views, review_views, views

urlpatterns = [
    path("", views.write_index, name="write"),
    path("new/", views.draft_new, name="draft_new"),
    path("template-fields/", views.template_fields, name="draft_template_fields"),
    path("articles/<id:pk>/", views.article_detail, name="article_detail"),
    path("mine/", review_views.my_drafts, name="my_drafts"),
    path("articles/<id:pk>/transition/<str:action>/", review_views.article_transition_view, name="article_transition"),
    path("articles/<id:pk>/use/<id:generation_pk>/", views.article_choose, name="article_choose"),
    # the editor (articles.editing_views)
    path("articles/<id:pk>/edit/", editing_views.article_edit, name="article_edit"),
    path("articles/<id:pk>/preview/", editing_views.article_preview, name="article_preview"),
    path("articles/<id:pk>/save/", editing_views.article_save_view, name="article_save"),
    path("articles/<id:pk>/revisions/", editing_views.article_revisions, name="article_revisions"),
    path("articles/<id:pk>/revisions/panel/", editing_views.article_revisions_panel, name="article_revisions_panel"),
    path("articles/<id:pk>/revisions/<id:number>/restore/", editing_views.article_restore, name="article_restore"),
    path("articles/<id:pk>/comments/", editing_views.article_comments, name="article_comments"),
    path("articles/<id:pk>/comments/add/", editing_views.article_comment_add, name="article_comment_add"),
    path("articles/<id:pk>/suggestions/", editing_views.suggestion_create, name="suggestion_create"),
    path("suggestions/<id:pk>/accept/", editing_views.suggestion_accept, name="suggestion_accept"),
    path("suggestions/<id:pk>/discard/", editing_views.suggestion_discard, name="suggestion_discard"),
    path("generations/<id:pk>/cancel/", views.generation_cancel, name="generation_cancel"),
    path("generations/<id:pk>/<str:kind>/", views.generation_again, name="generation_again"),
]
