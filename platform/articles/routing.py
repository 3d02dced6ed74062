from django.urls import path

from articles import consumers

websocket_urlpatterns = [
    path("ws/generations/<int:generation_id>/", consumers.GenerationJsonConsumer.as_asgi()),
    path("ws/articles/<int:article_id>/", consumers.ArticleHtmlConsumer.as_asgi()),
]
