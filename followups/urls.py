from django.urls import path

from . import views, views_pipeline, views_records, views_search

app_name = "followups"

urlpatterns = [
    path("today/", views.today, name="today"),
    path("board/", views.board, name="board"),
    path("stagnant/", views.stagnant, name="stagnant"),
    path("compliance/", views.compliance, name="compliance"),
    path("search/", views_search.search, name="search"),
    path("pipeline/", views_pipeline.pipeline, name="pipeline"),
    path("pipeline/<int:opportunity_id>/move/", views_pipeline.pipeline_move, name="pipeline-move"),
    path("accounts/", views_records.account_index, name="accounts"),
    path("accounts/new/", views_records.account_new, name="account-new"),
    path("accounts/<int:account_id>/", views.account_detail, name="account"),
    path("accounts/<int:account_id>/edit/", views_records.account_edit, name="account-edit"),
    path("accounts/<int:account_id>/reassign/", views_records.account_reassign_view, name="account-reassign"),
    path("accounts/<int:account_id>/contacts/new/", views_records.contact_new, name="contact-new"),
    path("contacts/<int:contact_id>/edit/", views_records.contact_edit, name="contact-edit"),
    path("opportunities/", views_pipeline.opportunity_index, name="opportunities"),
    path("opportunities/new/", views_records.opportunity_new, name="opportunity-new"),
    path("opportunities/bulk/reassign/", views_pipeline.opportunity_bulk_reassign, name="opportunities-bulk-reassign"),
    path("opportunities/<int:opportunity_id>/edit/", views_records.opportunity_edit, name="opportunity-edit"),
    path("opportunities/<int:opportunity_id>/reassign/", views_records.opportunity_reassign_view, name="opportunity-reassign"),
    path("opportunities/<int:opportunity_id>/", views.opportunity_detail, name="opportunity"),
    path("opportunities/<int:opportunity_id>/visit/", views.visit, name="visit"),
    path("opportunities/<int:opportunity_id>/followups/", views.followup_create, name="followup-create"),
    path("opportunities/<int:opportunity_id>/templates/<slug:code>/", views.template_log, name="template-log"),
    path("opportunities/<int:opportunity_id>/stage/", views.stage_change, name="stage"),
    path("tasks/<int:task_id>/done/", views.task_done, name="task-done"),
    path("leads/<int:lead_id>/convert/", views.lead_convert_view, name="lead-convert"),
    path("attachments/<int:attachment_id>/", views.attachment_download, name="attachment"),
]
