from django.urls import path

from articles import consumers

websocket_urlpatterns = [
    path("ws/generations/<id:generation_id>/", consumers.GenerationJsonConsumer.as_asgi()),
    path("ws/articles/<id:article_id>/", consumers.ArticleHtmlConsumer.as_asgi()),
]
