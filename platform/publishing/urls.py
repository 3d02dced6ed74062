from django.urls import path

from publishing import feeds, views

# Public, no login: /p/<workspace slug>/...
public_urlpatterns = [
    path("<slug:workspace_slug>/", views.public_index, name="publishing_index"),
    path("<slug:workspace_slug>/feed/", feeds.PublishedAtomFeed(), name="publishing_atom"),
    path("<slug:workspace_slug>/rss/", feeds.PublishedRssFeed(), name="publishing_rss"),
    path("<slug:workspace_slug>/<slug:article_slug>/", views.public_article, name="publishing_article"),
]

# Members, beside the article's studio page: /write/articles/<id>/...
studio_urlpatterns = [
    path("published/", views.published_list, name="publishing_list"),
    path("articles/<id:pk>/export/<str:fmt>/", views.article_export_view, name="publishing_export"),
    path("articles/<id:pk>/print/", views.article_print, name="publishing_print"),
    path("articles/<id:pk>/schedule/", views.article_schedule, name="publishing_schedule"),
]
