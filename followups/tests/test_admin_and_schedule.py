"""Admin-edited SLA policy is audited; the beat schedule fans the scan out per tenant."""
from django.conf import settings
from django.urls import reverse

from audit.models import AuditEntry
from followups.models import SlaPolicy


def test_an_admin_changing_the_sla_policy_is_audited(alpha, client_for):
    alpha.admin.is_staff = alpha.admin.is_superuser = True
    alpha.admin.save()
    client = client_for(alpha, alpha.admin)
    url = reverse("admin:followups_slapolicy_change", args=[1])
    policy = SlaPolicy.objects.get(pk=1)
    response = client.post(url, {
        "first_touch_hours": 24, "high_value_amount": "500000", "cadence_days": "3,7,14",
        "standard_cadence_days": 14, "golden_hours": 48, "yellow_after_days": 7, "red_after_days": 14,
        "stagnation_working_days": 5,
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    policy.refresh_from_db()
    assert (policy.yellow_after_days, policy.red_after_days) == (7, 14)
    entry = AuditEntry.objects.filter(verb="slapolicy.changed").order_by("-seq").first()
    assert {"yellow_after_days", "red_after_days"} <= set(entry.payload["fields"])
    assert entry.payload["fields"]["red_after_days"] == 14


def test_an_admin_cannot_set_red_before_yellow(alpha, client_for):
    alpha.admin.is_staff = alpha.admin.is_superuser = True
    alpha.admin.save()
    response = client_for(alpha, alpha.admin).post(reverse("admin:followups_slapolicy_change", args=[1]), {
        "first_touch_hours": 24, "high_value_amount": "500000", "cadence_days": "3,7,14",
        "standard_cadence_days": 14, "golden_hours": 48, "yellow_after_days": 5, "red_after_days": 2,
        "stagnation_working_days": 5,
    })
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    assert SlaPolicy.objects.get(pk=1).red_after_days == 3


def test_a_rep_cannot_open_the_policy_in_admin(alpha, client_for):
    response = client_for(alpha, alpha.rep).get(reverse("admin:followups_slapolicy_change", args=[1]))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_beat_fans_the_sla_scan_out_to_every_tenant():
    entry = settings.CELERY_BEAT_SCHEDULE["followups-sla-scan"]
    assert entry["task"] == "salesflow.tenancy.tasks.fan_out_to_tenants"
    assert entry["args"][0] == "followups.tasks.sla_scan_task"
    from salesflow.celery import app

    app.loader.import_default_modules()
    assert "followups.tasks.sla_scan_task" in app.tasks
