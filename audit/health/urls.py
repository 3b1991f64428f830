from django.urls import path

from . import views

app_name = "health"

urlpatterns = [
    path("", views.board, name="board"),
    path("me/", views.my_health, name="mine"),
    path("customers/uncovered/", views.customers_uncovered, name="uncovered"),
    path("customers/touches/", views.customers_touches, name="touches"),
    path("leads/waiting/", views.leads_waiting, name="waiting"),
    path("reps/<int:user_id>/", views.diagnosis, name="diagnosis"),
]
