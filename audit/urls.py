from django.urls import path

from .checkpoints import views as checkpoint_views
from .export import views as export_views

app_name = "audit"

urlpatterns = [
    path(".well-known/salesflow-audit-key", checkpoint_views.audit_key, name="audit-key"),
    path("followups/accounts/<int:account_id>/record/", export_views.export_panel, name="record-exports"),
    path("followups/accounts/<int:account_id>/record/<int:export_id>/download/", export_views.export_download,
         name="record-download"),
]
