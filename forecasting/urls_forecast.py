from django.urls import path

from . import views_forecast

app_name = "forecasting"

urlpatterns = [
    path("", views_forecast.forecast_index, name="index"),
    path("board/", views_forecast.board, name="board"),
    path("board/week/", views_forecast.board_week, name="board-week"),
    path("commits/", views_forecast.commits, name="commits"),
    path("commits/<int:opportunity_id>/", views_forecast.commit_update, name="commit-update"),
    path("adjust/", views_forecast.adjust, name="adjust"),
    path("accuracy/", views_forecast.accuracy, name="accuracy"),
]
