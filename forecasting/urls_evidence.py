from django.urls import path

from . import views_evidence as views

app_name = "evidence"

urlpatterns = [
    path("review/", views.review_queue, name="queue"),
    path("review/<int:evidence_id>/", views.review, name="review"),
    path("opportunities/<int:opportunity_id>/confirmations/new/", views.confirmation_new, name="confirmation-new"),
    path("opportunities/<int:opportunity_id>/delivery/", views.delivery, name="delivery"),
    path("confirmations/<int:confirmation_id>/", views.confirmation_show, name="confirmation-show"),
    path("confirmations/<int:confirmation_id>/qr.svg", views.confirmation_qr, name="confirmation-qr"),
    path("confirm/<str:token>/", views.confirm, name="confirm"),
    path("finance/", views.finance, name="finance"),
]
