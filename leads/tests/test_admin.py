from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import AuditEntry
from leads.models import ImportJob, RoutingRule
from leads.services import rules_active


def test_an_admin_uploads_a_csv_sees_a_preview_maps_columns_and_starts_the_import(alpha, client_for, django_capture_on_commit_callbacks):
    client = client_for(alpha, alpha.admin)
    upload = SimpleUploadedFile("x.csv", "company,contact_name,phone\n甲医院,甲,13500000009\n".encode(), content_type="text/csv")
    response = client.post("/admin/leads/importjob/add/", {"file": upload})
    job = ImportJob.objects.get()
    assert response["Location"] == f"/admin/leads/importjob/{job.pk}/change/"
    page = client.get(response["Location"]).content.decode()
    assert "甲医院" in page and 'name="1"' in page
    with django_capture_on_commit_callbacks() as queued:
        client.post(response["Location"], {"0": "company", "1": "contact_name", "2": "phone"})
    job.refresh_from_db()
    assert job.status == "queued" and job.mapping == {"0": "company", "1": "contact_name", "2": "phone"} and len(queued) == 1
    assert 'id="import-progress"' in client.get(f"/admin/leads/importjob/{job.pk}/progress/").content.decode()


def test_a_rule_changed_in_admin_is_audited_and_routing_sees_it_at_once(alpha, client_for, django_capture_on_commit_callbacks):
    rules_active()  # warm the cache
    rule = RoutingRule.objects.get(strategy="public_pool")
    client = client_for(alpha, alpha.admin)
    form = client.get(f"/admin/leads/routingrule/{rule.pk}/change/")
    assert form.status_code == 200
    data = {"name": "C 级 → 公海（改）", "position": 55, "enabled": "on", "budget_grades": "C", "strategy": "public_pool",
            "industries": "", "regions": "", "product_lines": "", "channels": "", "tiers": ""}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/admin/leads/routingrule/{rule.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert AuditEntry.objects.filter(verb="routing_rule.changed", target_id=str(rule.pk)).exists()
    assert "C 级 → 公海（改）" in [r.name for r in rules_active()]
    assert client_for(alpha, alpha.manager).get(f"/admin/leads/routingrule/{rule.pk}/change/").status_code == 302
