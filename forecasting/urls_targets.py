from django.urls import path

from . import views_targets

app_name = "targets"

urlpatterns = [
    path("", views_targets.targets, name="index"),
    path("edit/<str:level>/<int:key>/", views_targets.target_edit, name="edit"),
    path("heatmap/", views_targets.heatmap, name="heatmap"),
]
