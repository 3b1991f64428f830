from django.urls import path

from . import views

app_name = "followups"

urlpatterns = [
    path("today/", views.today, name="today"),
    path("board/", views.board, name="board"),
    path("stagnant/", views.stagnant, name="stagnant"),
    path("compliance/", views.compliance, name="compliance"),
    path("accounts/<int:account_id>/", views.account_detail, name="account"),
    path("opportunities/<int:opportunity_id>/", views.opportunity_detail, name="opportunity"),
    path("opportunities/<int:opportunity_id>/visit/", views.visit, name="visit"),
    path("opportunities/<int:opportunity_id>/followups/", views.followup_create, name="followup-create"),
    path("opportunities/<int:opportunity_id>/templates/<slug:code>/", views.template_log, name="template-log"),
    path("opportunities/<int:opportunity_id>/stage/", views.stage_change, name="stage"),
    path("tasks/<int:task_id>/done/", views.task_done, name="task-done"),
    path("leads/<int:lead_id>/convert/", views.lead_convert_view, name="lead-convert"),
    path("attachments/<int:attachment_id>/", views.attachment_download, name="attachment"),
]
