from django.urls import path

from . import api, views, views_bulk

app_name = "leads"
urlpatterns = [
    path("leads/", views.lead_index, name="index"),
    path("leads/new/", views.lead_create, name="create"),
    path("leads/pool/", views.pool, name="pool"),
    path("leads/routing-log/", views.routing_log_view, name="routing-log"),
    path("leads/speed/", views.speed_view, name="speed"),
    path("leads/bulk/reassign/", views_bulk.lead_bulk_reassign, name="bulk-reassign"),
    path("leads/bulk/claim/", views_bulk.lead_bulk_claim, name="bulk-claim"),
    path("leads/<int:lead_id>/", views.lead_detail, name="detail"),
    path("leads/<int:lead_id>/accept/", views.lead_accept_view, name="accept"),
    path("leads/<int:lead_id>/touch/", views.lead_touch_view, name="touch"),
    path("leads/<int:lead_id>/reassign/", views.lead_reassign_view, name="reassign"),
    path("leads/<int:lead_id>/claim/", views.lead_claim_view, name="claim"),
    path("form/", views.web_form, name="web-form"),
    path("form/thanks/", views.web_form_thanks, name="web-form-thanks"),
    path("api/v1/leads", api.leads_intake, name="api-intake"),
    path("api/v1/openapi.json", api.openapi_json, name="api-openapi"),
]
