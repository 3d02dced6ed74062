"""WebSocket routes under /ws/. Each feature adds its consumers here."""

from articles.routing import websocket_urlpatterns as article_routes
from training.routing import websocket_urlpatterns as training_routes

websocket_urlpatterns = [*article_routes, *training_routes]
