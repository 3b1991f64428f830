"""A lead converts into account + contact + opportunity in one step, keeping its clocks."""
from decimal import Decimal

import pytest
from django.urls import reverse

from audit.models import AuditEntry
from followups.models import Account, Contact, Opportunity
from followups.services import lead_convert
from leads.models import LeadStatus, LeadTouch
from leads.services import LeadStateConflict, lead_claim, lead_touch_record
from leads.tests.factories import lead_submit


@pytest.fixture
def lead(alpha):
    lead = lead_submit(company="仁济医院", contact_name="陈主任", budget_grade="C", industry="医疗器械",
                       product_line="影像设备").lead
    if lead.owner_id != alpha.rep.pk:
        assert lead.status == LeadStatus.POOL, "the fixture tenant routes a lead to its one rep or leaves it in the pool"
        lead_claim(actor=alpha.rep, lead=lead)
    lead_touch_record(actor=alpha.rep, lead=lead, kind=LeadTouch.Kind.CALL, note="首次电话")
    lead.refresh_from_db()
    return lead


def test_a_lead_converts_in_one_step_keeping_its_first_touch_and_history(alpha, lead):
    opp = lead_convert(actor=alpha.rep, lead=lead, amount=Decimal("450000"), contact_role="cio")
    lead.refresh_from_db()
    assert lead.status == LeadStatus.CONVERTED
    assert (opp.owner, opp.source_lead_id, opp.first_touch_at, opp.amount) == (alpha.rep, lead.pk, lead.first_touch_at, Decimal("450000"))
    account = Account.objects.get(source_lead_id=lead.pk)
    assert account.name == "仁济医院" and opp.account == account
    contact = Contact.objects.get(account=account)
    assert (contact.name, contact.role, contact.is_key_person) == ("陈主任", "cio", True)
    assert AuditEntry.objects.filter(verb="lead.converted_to_opportunity", target_id=str(opp.pk)).exists()


def test_a_lead_converts_only_once(alpha, lead):
    lead_convert(actor=alpha.rep, lead=lead)
    with pytest.raises(LeadStateConflict):
        lead_convert(actor=alpha.rep, lead=lead)
    assert Opportunity.objects.filter(source_lead_id=lead.pk).count() == 1


def test_the_conversion_page_shows_the_lead_history_and_refuses_others(alpha, beta, client_for, lead):
    url = reverse("followups:lead-convert", args=[lead.pk])
    form = client_for(alpha, alpha.rep).get(url)
    assert form.status_code == 200 and "仁济医院" in form.content.decode()
    assert client_for(alpha, alpha.other_rep).get(url).status_code == 404
    assert client_for(alpha, alpha.rep).post(url, {"amount": "-1", "contact_role": "other"}).status_code == 400
    assert client_for(alpha, alpha.other_rep).post(url, {"amount": "1", "contact_role": "other"}).status_code == 404
    assert client_for(beta, beta.admin).post(url, {"amount": "1", "contact_role": "other"}).status_code == 404
    response = client_for(alpha, alpha.rep).post(url, {"amount": "200000", "contact_role": "purchasing"})
    assert response.status_code == 302
    opp = Opportunity.objects.get(source_lead_id=lead.pk)
    page = client_for(alpha, alpha.rep).get(reverse("followups:opportunity", args=[opp.pk])).content.decode()
    assert "首次电话" in page


def test_the_lead_page_offers_conversion_to_its_owner_only_while_open(alpha, client_for, lead):
    url = reverse("followups:lead-convert", args=[lead.pk])
    assert url in client_for(alpha, alpha.rep).get(reverse("leads:detail", args=[lead.pk])).content.decode()
    lead_convert(actor=alpha.rep, lead=lead, opportunity_name="POC", amount=Decimal("1000"))
    assert url not in client_for(alpha, alpha.rep).get(reverse("leads:detail", args=[lead.pk])).content.decode()
