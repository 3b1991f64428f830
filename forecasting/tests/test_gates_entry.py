"""Gates on every way an opportunity enters a stage: created straight into it (form, phone, service, lead
conversion) as well as moved into it; the admin and the API offer no other way."""
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from audit.models import AuditEntry
from audit.selectors import audit_chain_verify
from followups.models import Account, Opportunity, Stage, StageRequirement
from followups.services import lead_convert, opportunity_create, opportunity_open
from followups.tests.factories import AccountFactory
from forecasting.services.gates import GateRefused
from leads.models import LeadStatus
from leads.services import lead_claim
from leads.tests.factories import lead_submit

PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148"


def _refusals():
    return AuditEntry.objects.filter(verb="gate.refused", payload__creation=True)


def test_creating_straight_into_a_gated_stage_is_refused_in_words_and_numbers_and_audited(alpha):
    account = AccountFactory(owner=alpha.rep)
    negotiation = Stage.objects.get(code="negotiation")
    with translation.override("en"), pytest.raises(GateRefused) as refused:
        opportunity_create(actor=alpha.rep, account=account, name="PACS", owner=alpha.rep, stage=negotiation)
    assert str(refused.value.messages[0]) == (
        "Contract negotiation needs 25 points, has 0: 25 more, e.g. 3 customer confirmations.")
    assert not Opportunity.objects.filter(account=account).exists()
    entry = _refusals().get()
    assert entry.payload["to"] == "negotiation" and entry.payload["credit"] == 0
    assert entry.target_type == "followups.account" and entry.target_id == str(account.pk)
    assert audit_chain_verify().intact


def test_the_first_stage_and_an_ungated_one_open_as_before(alpha):
    account = AccountFactory(owner=alpha.rep)
    opp = opportunity_create(actor=alpha.rep, account=account, name="PACS", owner=alpha.rep,
                             stage=Stage.objects.get(code="needs_confirmed"))
    assert opp.stage.code == "needs_confirmed" and not _refusals().exists()


def test_a_new_opportunity_never_starts_closed(alpha):
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        opportunity_create(actor=alpha.rep, account=AccountFactory(owner=alpha.rep), name="PACS", owner=alpha.rep,
                           stage=Stage.objects.get(code="won"))
    assert "open stage" in str(refused.value)


def test_required_actions_of_earlier_stages_hold_a_creation_past_them(alpha):
    demo = Stage.objects.get(code="solution_demo")
    StageRequirement.objects.create(stage=Stage.objects.get(code="needs_confirmed"), action="legal_review", count=1,
                                    required_to_advance=True)
    with translation.override("en"), pytest.raises(GateRefused) as refused:
        opportunity_create(actor=alpha.rep, account=AccountFactory(owner=alpha.rep), name="PACS", owner=alpha.rep,
                           stage=demo, entry_credit=20)
    assert "legal pre-review passed (0 of 1)" in refused.value.messages[0]


@pytest.mark.parametrize("agent, via", [("Mozilla/5.0 (X11; Linux x86_64)", "web"), (PHONE, "mobile")])
def test_the_new_opportunity_form_refuses_a_gated_stage_on_desktop_and_phone(alpha, client_for, agent, via):
    client = client_for(alpha, alpha.rep)
    before = Account.objects.count()
    response = client.post(reverse("followups:opportunity-new"), {
        "new_account_name": "新华医院", "name": "PACS", "amount": "1000000",
        "stage": Stage.objects.get(code="solution_demo").pk,
    }, HTTP_ACCEPT_LANGUAGE="en", HTTP_USER_AGENT=agent)
    assert response.status_code == 400
    assert "Solution demo needs 15 points, has 0: 15 more" in response.content.decode()
    assert Account.objects.count() == before  # no customer left behind by a refused creation
    assert _refusals().get().payload["via"] == via


def test_the_new_opportunity_form_in_zh_says_it_in_chinese(alpha, client_for):
    response = client_for(alpha, alpha.rep).post(reverse("followups:opportunity-new"), {
        "new_account_name": "新华医院", "name": "PACS", "amount": "1000000",
        "stage": Stage.objects.get(code="negotiation").pk,
    }, HTTP_ACCEPT_LANGUAGE="zh-hans")
    body = response.content.decode()
    assert response.status_code == 400 and "25" in body and "needs" not in body


def test_the_new_opportunity_form_opens_in_an_ungated_stage(alpha, client_for):
    response = client_for(alpha, alpha.rep).post(reverse("followups:opportunity-new"), {
        "new_account_name": "新华医院", "name": "PACS", "amount": "1000000",
        "stage": Stage.objects.get(code="needs_confirmed").pk,
    })
    assert response.status_code == 302
    assert Opportunity.objects.get(name="PACS").stage.code == "needs_confirmed"


def _owned_lead(alpha, **kwargs):
    lead = lead_submit(company="仁济医院", contact_name="陈主任", **kwargs).lead
    if lead.owner_id != alpha.rep.pk:
        if lead.status != LeadStatus.POOL:
            pytest.skip("routing did not leave the lead in the pool")
        lead_claim(actor=alpha.rep, lead=lead)
    lead.refresh_from_db()
    return lead


def test_a_gate_on_the_first_stage_holds_every_creation_but_the_customers_own_submission(alpha, client_for):
    Stage.objects.filter(code="initial_contact").update(entry_min_credit=8)
    with pytest.raises(GateRefused):
        opportunity_open(actor=alpha.rep, owner=alpha.rep, name="PACS", account_values={"name": "新华医院"})
    typed_in = _owned_lead(alpha, channel="manual", via="manual")
    response = client_for(alpha, alpha.rep).post(reverse("followups:lead-convert", args=[typed_in.pk]),
                                                 {"opportunity_name": "PACS", "amount": "0", "contact_role": "cio"},
                                                 HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400 and "has 0: 8 more" in response.content.decode()
    typed_in.refresh_from_db()
    assert typed_in.status != LeadStatus.CONVERTED and _refusals().count() == 2
    submitted = _owned_lead(alpha, channel="api")
    opp = lead_convert(actor=alpha.rep, lead=submitted)
    assert opp.stage.code == "initial_contact" and opp.credit_score == 10


def test_the_admin_cannot_add_an_opportunity(alpha, client_for):
    client = client_for(alpha, alpha.admin)
    response = client.post(reverse("admin:followups_opportunity_add"), {"stage": Stage.objects.get(code="won").pk})
    assert response.status_code == 403
    assert not Opportunity.objects.exists()
