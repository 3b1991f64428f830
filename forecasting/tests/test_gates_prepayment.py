"""Stage gates, the finance webhook and prepayments, customer confirmation."""
import datetime as dt
import hashlib
import hmac
import json
import time

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django.utils import translation

from audit.models import AuditEntry
from audit.selectors import audit_chain_verify
from followups.models import Opportunity, Stage, StageRequirement
from followups.services import followup_log, opportunity_stage_change
from followups.tests.factories import opportunity_make
from forecasting.models import CustomerConfirmation, DeliverySchedule, Evidence, EvidenceSource, Prepayment
from forecasting.services.confirmation import (
    ConfirmationInvalid,
    confirmation_confirm,
    confirmation_request,
    confirmation_token,
)
from forecasting.services.evidence import credit_differences
from forecasting.services.finance_secret import finance_secret_get, finance_secret_issue
from forecasting.services.gates import GateRefused
from forecasting.services.prepayment import delivery_schedule



def test_a_move_short_of_credit_is_refused_in_words_and_numbers_and_audited(alpha):
    opp = opportunity_make(owner=alpha.rep, credit=19, stage="trial")
    negotiation = Stage.objects.get(code="negotiation")
    with translation.override("en"), pytest.raises(GateRefused) as refused:
        opportunity_stage_change(actor=alpha.rep, opportunity=opp, to_stage=negotiation, via="web")
    assert str(refused.value.messages[0]) == (
        "Contract negotiation needs 25 points, has 19: 6 more, e.g. one uploaded meeting minute.")
    opp.refresh_from_db()
    assert opp.stage.code == "trial"
    entry = AuditEntry.objects.get(verb="gate.refused", target_id=str(opp.pk))
    assert entry.payload["to"] == "negotiation" and entry.payload["credit"] == 19
    with translation.override("zh-hans"):
        with pytest.raises(GateRefused) as refused_zh:
            opportunity_stage_change(actor=alpha.rep, opportunity=opp, to_stage=negotiation, via="web")
    assert "25" in refused_zh.value.messages[0] and "needs" not in refused_zh.value.messages[0]


def test_enough_credit_passes_and_moving_back_or_to_lost_is_never_gated(alpha):
    opp = opportunity_make(owner=alpha.rep, credit=15)
    opportunity_stage_change(actor=alpha.rep, opportunity=opp, to_stage=Stage.objects.get(code="solution_demo"), via="web")
    opportunity_stage_change(actor=alpha.rep, opportunity=opp, to_stage=Stage.objects.get(code="needs_confirmed"), via="web")
    opportunity_stage_change(actor=alpha.rep, opportunity=opp, to_stage=Stage.objects.get(code="lost"), via="web",
                             lost_reason="预算取消")
    assert Opportunity.objects.get(pk=opp.pk).stage.code == "lost"


def test_skipping_stages_meets_every_gate_on_the_way(alpha):
    opp = opportunity_make(owner=alpha.rep, credit=20)
    with pytest.raises(GateRefused):
        opportunity_stage_change(actor=alpha.rep, opportunity=opp, to_stage=Stage.objects.get(code="won"), via="web")


def test_required_actions_hold_a_move_until_logged(alpha):
    negotiation = Stage.objects.get(code="negotiation")
    StageRequirement.objects.create(stage=negotiation, action="legal_review", count=1, required_to_advance=True)
    opp = opportunity_make(owner=alpha.rep, stage="negotiation", credit=30)
    with translation.override("en"), pytest.raises(GateRefused) as refused:
        opportunity_stage_change(actor=alpha.rep, opportunity=opp, to_stage=Stage.objects.get(code="won"), via="web")
    assert "legal pre-review passed (0 of 1)" in refused.value.messages[0]
    followup_log(actor=alpha.rep, opportunity=opp, kind="meeting", summary="法务预审通过", action="legal_review")
    opportunity_stage_change(actor=alpha.rep, opportunity=opp, to_stage=Stage.objects.get(code="won"), via="web")


def test_the_pipeline_drag_answers_a_gate_refusal_with_what_is_missing(alpha, client_for):
    opp = opportunity_make(owner=alpha.rep)
    response = client_for(alpha, alpha.rep).post(
        reverse("followups:pipeline-move", args=[opp.pk]), {"stage": Stage.objects.get(code="solution_demo").pk},
        HTTP_HX_REQUEST="true", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 409 and "15" in response.content.decode()
    assert Opportunity.objects.get(pk=opp.pk).stage.code == "initial_contact"


def test_the_admin_cannot_change_an_opportunitys_stage(alpha, client_for):
    opp = opportunity_make(owner=alpha.rep)
    client = client_for(alpha, alpha.admin)
    response = client.post(reverse("admin:followups_opportunity_change", args=[opp.pk]),
                           {"stage": Stage.objects.get(code="won").pk})
    assert response.status_code == 403
    assert Opportunity.objects.get(pk=opp.pk).stage.code == "initial_contact"


# --- finance webhook ---------------------------------------------------------------------

def _signed(secret, body: bytes, stamp=None) -> str:
    stamp = str(int(time.time()) if stamp is None else stamp)
    return f"t={stamp},v1=" + hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()


@pytest.fixture
def finance_api(alpha, client_for):
    client = client_for(alpha)
    secret = finance_secret_get()

    def post(payload, *, signature=None, raw=None):
        body = raw if raw is not None else json.dumps(payload).encode()
        return client.post("/api/v1/finance/prepayments", data=body, content_type="application/json",
                           HTTP_X_SALESFLOW_SIGNATURE=signature if signature is not None else _signed(secret, body))
    post.secret = secret
    return post


def _payment(opp, reference="AR-2026-0001", amount="12500.00"):
    return {"opportunity": opp.pk, "amount": amount, "currency": "CNY",
            "received_at": "2026-11-30T10:00:00+08:00", "reference": reference}


def test_a_signed_prepayment_adds_eight_once_and_the_same_reference_is_a_duplicate(alpha, finance_api):
    opp = opportunity_make(owner=alpha.rep)
    first = finance_api(_payment(opp))
    assert first.status_code == 201 and first.json()["credit"] == 8 and first.json()["opportunity"] == opp.pk
    again = finance_api(_payment(opp))
    assert again.status_code == 200 and again.json() == {**first.json(), "duplicate": True}
    second = finance_api(_payment(opp, reference="AR-2026-0002"))
    assert second.status_code == 201 and second.json()["credit"] == 8  # +8 once per opportunity
    assert Prepayment.objects.filter(opportunity=opp).count() == 2
    assert Evidence.objects.filter(opportunity=opp, source=EvidenceSource.PREPAYMENT).count() == 1
    assert credit_differences() == [] and audit_chain_verify().intact


@pytest.mark.parametrize("case", ["wrong", "old", "missing", "other_secret"])
def test_a_bad_signature_changes_nothing_and_says_why(alpha, finance_api, case):
    opp = opportunity_make(owner=alpha.rep)
    body = json.dumps(_payment(opp)).encode()
    signature = {
        "wrong": _signed(finance_api.secret, body + b" "),
        "old": _signed(finance_api.secret, body, stamp=int(time.time()) - 301),
        "missing": "",
        "other_secret": _signed("not-the-secret", body),
    }[case]
    response = finance_api(None, raw=body, signature=signature)
    assert response.status_code == 401 and response.json()["errors"]["X-SalesFlow-Signature"]
    assert not Prepayment.objects.exists() and Opportunity.objects.get(pk=opp.pk).credit_score == 0


@pytest.mark.parametrize("change,field", [
    ({"amount": "12,500"}, "amount"), ({"amount": "-5"}, "amount"), ({"amount": 12500}, "amount"),
    ({"currency": "rmb"}, "currency"), ({"received_at": "yesterday"}, "received_at"), ({"reference": ""}, "reference"),
    ({"opportunity": "7"}, "opportunity"),
])
def test_a_malformed_body_is_400_naming_the_field(alpha, finance_api, change, field):
    opp = opportunity_make(owner=alpha.rep)
    response = finance_api({**_payment(opp), **change})
    assert response.status_code == 400 and field in response.json()["errors"]
    assert not Prepayment.objects.exists()


def test_an_unknown_opportunity_is_404_and_another_tenants_secret_is_401(alpha, beta, finance_api, client_for):
    response = finance_api({**_payment(opportunity_make(owner=alpha.rep)), "opportunity": 10**9})
    assert response.status_code == 404 and not Prepayment.objects.exists()
    body = json.dumps({"opportunity": 1, "amount": "1.00", "currency": "CNY",
                       "received_at": "2026-11-30T10:00:00+08:00", "reference": "x"}).encode()
    response = client_for(beta).post("/api/v1/finance/prepayments", data=body, content_type="application/json",
                                     HTTP_X_SALESFLOW_SIGNATURE=_signed(finance_api.secret, body))
    assert response.status_code == 401


def test_the_webhook_is_in_the_openapi_document(alpha, client_for):
    document = client_for(alpha).get("/api/v1/openapi.json").json()
    operation = document["paths"]["/api/v1/finance/prepayments"]["post"]
    assert {"201", "200", "400", "401", "404"} <= set(operation["responses"])
    assert document["components"]["schemas"]["PrepaymentIn"]["required"] == [
        "opportunity", "amount", "currency", "received_at", "reference"]


def test_rotating_the_secret_retires_the_old_one(alpha, finance_api):
    old = finance_api.secret
    new = finance_secret_issue(actor=alpha.admin)
    assert new != old and finance_secret_get() == new
    opp = opportunity_make(owner=alpha.rep)
    body = json.dumps(_payment(opp)).encode()
    assert finance_api(None, raw=body, signature=_signed(old, body)).status_code == 401
    assert finance_api(None, raw=body, signature=_signed(new, body)).status_code == 201
    assert AuditEntry.objects.filter(verb="finance_secret.issued").exists()


# --- finance users and delivery ------------------------------------------------------------

@pytest.fixture
def finance_user(alpha):
    from salesflow.org.models import Role
    from salesflow.org.tests.factories import MemberFactory, UserFactory

    return MemberFactory(user=UserFactory(username="cashier"), role=Role.FINANCE, team=None).user


def test_a_finance_user_records_a_prepayment_and_delivery_can_then_be_scheduled(alpha, client_for, finance_user):
    opp = opportunity_make(owner=alpha.rep)
    with pytest.raises(ValidationError):
        delivery_schedule(actor=alpha.rep, opportunity=opp, planned_on=dt.date(2026, 12, 20))
    client = client_for(alpha, finance_user)
    assert client.get(reverse("evidence:finance"), {"opp": str(opp.pk)}).status_code == 200
    response = client.post(reverse("evidence:finance"), {
        "opportunity": opp.pk, "amount": "30000", "currency": "CNY", "received_at": "2026-11-30T10:00",
        "reference": "BANK-778"})
    assert response.status_code == 302
    assert Opportunity.objects.get(pk=opp.pk).credit_score == 8
    delivery_schedule(actor=alpha.rep, opportunity=opp, planned_on=dt.date(2026, 12, 20), note="分两批")
    assert DeliverySchedule.objects.get(opportunity=opp).note == "分两批"
    assert AuditEntry.objects.filter(verb="delivery.scheduled", target_id=str(opp.pk)).exists()


@pytest.mark.parametrize("who", ["rep", "manager"])
def test_reps_and_managers_cannot_use_the_finance_page(alpha, client_for, who):
    opp = opportunity_make(owner=alpha.rep)
    response = client_for(alpha, getattr(alpha, who)).post(reverse("evidence:finance"), {
        "opportunity": opp.pk, "amount": "1", "currency": "CNY", "received_at": "2026-11-30T10:00", "reference": "X"})
    assert response.status_code == 403 and not Prepayment.objects.exists()


# --- customer confirmation ------------------------------------------------------------------

def test_the_customer_confirms_once_on_their_phone_without_signing_in(alpha, client_for):
    opp = opportunity_make(owner=alpha.rep)
    followup_log(actor=alpha.rep, opportunity=opp, kind="visit", summary="影像科设备选型")
    confirmation, token = confirmation_request(actor=alpha.rep, opportunity=opp)
    phone = client_for(alpha)
    page = phone.get(reverse("evidence:confirm", args=[token]))
    assert page.status_code == 200 and "影像科设备选型" in page.content.decode()
    done = phone.post(reverse("evidence:confirm", args=[token]), HTTP_USER_AGENT="Mozilla/5.0 (iPhone)")
    assert done.status_code == 200
    confirmation.refresh_from_db()
    assert confirmation.confirmed_at and confirmation.user_agent == "Mozilla/5.0 (iPhone)"
    assert Opportunity.objects.get(pk=opp.pk).credit_score == 2 + 10
    used = phone.post(reverse("evidence:confirm", args=[token]))
    assert used.status_code == 409 and Evidence.objects.filter(opportunity=opp).count() == 2


def test_expired_forged_and_foreign_tokens_get_a_clear_page(alpha, beta, client_for):
    opp = opportunity_make(owner=alpha.rep)
    confirmation, token = confirmation_request(actor=alpha.rep, opportunity=opp)
    phone = client_for(alpha)
    assert phone.get(reverse("evidence:confirm", args=[token[:-2] + "xx"])).status_code == 404
    CustomerConfirmation.objects.filter(pk=confirmation.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    assert phone.post(reverse("evidence:confirm", args=[token])).status_code == 410
    assert client_for(beta).get(reverse("evidence:confirm", args=[token])).status_code == 404
    connection.set_tenant(alpha.tenant)
    with pytest.raises(ConfirmationInvalid):
        confirmation_confirm(token=confirmation_token(confirmation), user_agent="x", ip=None)
    assert Opportunity.objects.get(pk=opp.pk).credit_score == 0


def test_only_the_owner_asks_for_a_confirmation_and_sees_its_qr(alpha, client_for):
    opp = opportunity_make(owner=alpha.rep)
    with pytest.raises(PermissionDenied):
        confirmation_request(actor=alpha.manager, opportunity=opp)
    client = client_for(alpha, alpha.rep)
    response = client.post(reverse("evidence:confirmation-new", args=[opp.pk]))
    confirmation = CustomerConfirmation.objects.get(opportunity=opp)
    assert response.status_code == 302
    qr = client.get(reverse("evidence:confirmation-qr", args=[confirmation.pk]))
    assert qr.status_code == 200 and qr["Content-Type"] == "image/svg+xml" and b"<svg" in qr.content
    assert client_for(alpha, alpha.manager).get(reverse("evidence:confirmation-qr", args=[confirmation.pk])).status_code == 404


def test_the_review_queue_is_for_managers_in_scope(alpha, client_for):
    opp = opportunity_make(owner=alpha.rep)
    followup_log(actor=alpha.rep, opportunity=opp, kind="call", summary="讨论需求要点")
    item = Evidence.objects.get(opportunity=opp)
    assert "讨论需求要点" in client_for(alpha, alpha.manager).get(reverse("evidence:queue")).content.decode()
    assert "讨论需求要点" not in client_for(alpha, alpha.other_manager).get(reverse("evidence:queue")).content.decode()
    assert client_for(alpha, alpha.rep).get(reverse("evidence:queue")).status_code == 403
    url = reverse("evidence:review", args=[item.pk])
    assert client_for(alpha, alpha.other_manager).post(url, {"action": "reject", "reason": "x"}).status_code == 404
    assert client_for(alpha, alpha.manager).post(url, {"action": "reject", "reason": "没有内容"}).status_code == 302
    assert Opportunity.objects.get(pk=opp.pk).credit_score == 0
    page = client_for(alpha, alpha.rep).get(reverse("followups:opportunity", args=[opp.pk])).content.decode()
    assert "没有内容" in page and 'id="evidence"' in page
