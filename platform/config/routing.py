"""WebSocket routes under /ws/. Each feature adds its consumers here."""

websocket_urlpatterns: list = []
