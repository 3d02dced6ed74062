from django.urls import path

from training import consumers

websocket_urlpatterns = [
    path("ws/trainings/<id:run_id>/", consumers.TrainingJsonConsumer.as_asgi()),
    path("ws/trainings/<id:run_id>/html/", consumers.TrainingHtmlConsumer.as_asgi()),
]
