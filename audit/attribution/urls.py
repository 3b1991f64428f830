from django.urls import path

from . import views

app_name = "attribution"

urlpatterns = [
    path("", views.attribution, name="page"),
]
