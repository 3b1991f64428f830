"""Admin of credit points, gates and the finance secret (audited); the finance role in the roster."""
from django.urls import reverse

from audit.models import AuditEntry
from followups.models import Stage
from forecasting.models import CreditPolicy, FinanceSecret
from forecasting.services.finance_secret import finance_secret_get
from salesflow.org.models import Member, Role
from salesflow.org.roster import COLUMNS, roster_import
from salesflow.org.scoping import visible_user_ids


def test_credit_points_are_edited_in_admin_and_audited(alpha, client_for):
    policy = CreditPolicy.objects.get(pk=1)
    client = client_for(alpha, alpha.admin)
    response = client.post(reverse("admin:forecasting_creditpolicy_change", args=[policy.pk]), {
        "strong_points": 12, "medium_points": 6, "weak_points": 1, "prepayment_points": 8})
    assert response.status_code == 302
    assert CreditPolicy.objects.get(pk=1).strong_points == 12
    entry = AuditEntry.objects.get(verb="creditpolicy.changed")
    assert set(entry.payload["fields"]) == {"strong_points", "weak_points"}


def test_a_stage_gate_is_edited_in_admin_and_audited(alpha, client_for):
    stage = Stage.objects.get(code="negotiation")
    assert stage.entry_min_credit == 25  # the provisioned default
    client = client_for(alpha, alpha.admin)
    page = client.get(reverse("admin:followups_stage_change", args=[stage.pk]))
    assert page.status_code == 200 and "entry_min_credit" in page.content.decode()
    form = page.context["adminform"].form
    data = {name: form.initial.get(name) for name in form.fields if form.initial.get(name) is not None}
    data["entry_min_credit"] = 30
    for formset in page.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        data.update({f"{management.prefix}-{k}": v for k, v in management.initial.items()})
        for index, inline in enumerate(formset.formset.forms):
            for name, field in inline.fields.items():
                value = inline.initial.get(name)
                if value is not None:
                    data[f"{inline.prefix}-{name}"] = value.pk if hasattr(value, "pk") else value
            data[f"{inline.prefix}-id"] = inline.instance.pk
    response = client.post(reverse("admin:followups_stage_change", args=[stage.pk]), data)
    assert response.status_code == 302, response.content[:2000]
    assert Stage.objects.get(pk=stage.pk).entry_min_credit == 30
    assert AuditEntry.objects.filter(verb="stage.changed", target_id=str(stage.pk)).exists()


def test_the_admin_rotates_the_finance_secret_and_sees_it_once(alpha, client_for):
    old = finance_secret_get()
    client = client_for(alpha, alpha.admin)
    response = client.post(reverse("admin:forecasting_financesecret_changelist"),
                           {"action": "rotate_secret", "_selected_action": [FinanceSecret.objects.get().pk]}, follow=True)
    new = finance_secret_get()
    assert new != old and new in response.content.decode()
    assert new not in client.get(reverse("admin:forecasting_financesecret_changelist")).content.decode()
    assert AuditEntry.objects.filter(verb="finance_secret.issued", actor_id=alpha.admin.pk).exists()


def test_the_roster_accepts_the_finance_role_and_finance_sees_only_its_own(alpha):
    text = ",".join(COLUMNS) + "\nzhao.cai,zhao.cai@example.com,赵财,finance,,,,,,,,\n"
    result = roster_import(actor=alpha.admin, text=text)
    assert result.ok, result
    member = Member.objects.select_related("user").get(user__username="zhao.cai")
    assert member.role == Role.FINANCE
    assert visible_user_ids(member.user) == {member.user.pk}
