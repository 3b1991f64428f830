"""Record screens: who may open and change what (404 alike for missing and not yours), and query budgets."""
import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from audit.models import AuditEntry
from followups.models import Account, Contact, Opportunity, RecordChange

from .factories import AccountFactory, ContactFactory, opportunity_make


@pytest.fixture
def opp(alpha):
    return opportunity_make(owner=alpha.rep, amount=Decimal("100000"))


def _edit(opp, **changes):
    data = {"name": opp.name, "amount": str(opp.amount), "expected_close": "", "product_line": opp.product_line}
    return data | changes


def test_the_owner_edits_the_amount_and_sees_it_in_the_history(alpha, client_for, opp):
    client = client_for(alpha, alpha.rep)
    url = reverse("followups:opportunity-edit", args=[opp.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, _edit(opp, amount="1350000", expected_close="2027-03-31"),
                           HTTP_USER_AGENT="Mozilla/5.0 (iPhone) Mobile/15E148")
    assert response.status_code == 302
    opp.refresh_from_db()
    assert opp.amount == Decimal("1350000")
    change = RecordChange.objects.get(record_id=opp.pk, field="amount", at_creation=False)
    assert change.via == "mobile"
    page = client.get(reverse("followups:opportunity", args=[opp.pk])).content.decode()
    assert "¥1,350,000" in page and "¥100,000" in page


def test_bad_edits_are_answered_with_the_field_error_and_change_nothing(alpha, client_for, opp):
    client = client_for(alpha, alpha.rep)
    url = reverse("followups:opportunity-edit", args=[opp.pk])
    for bad in ({"amount": "-5"}, {"amount": "abc"}, {"expected_close": "11/20/2026"}, {"name": ""}):
        response = client.post(url, _edit(opp, **bad))
        assert response.status_code == 400, bad
        assert 'class="errorlist' in response.content.decode()
    assert not RecordChange.objects.filter(record_id=opp.pk, at_creation=False).exists()


def test_only_the_owner_and_their_managers_edit_and_others_get_404_or_403(alpha, beta, client_for, opp):
    url = reverse("followups:opportunity-edit", args=[opp.pk])
    assert client_for(alpha, alpha.manager).get(url).status_code == 200
    assert client_for(alpha, alpha.other_rep).get(url).status_code == 404
    assert client_for(alpha, alpha.other_manager).post(url, _edit(opp, amount="1")).status_code == 404
    assert client_for(beta, beta.admin).post(url, _edit(opp, amount="1")).status_code == 404
    assert client_for(alpha, alpha.rep).get(reverse("followups:opportunity-edit", args=[999999])).status_code == 404
    opp.refresh_from_db()
    assert opp.amount == Decimal("100000")


def test_a_rep_who_sees_a_customer_through_a_deal_adds_contacts_but_does_not_edit_it(alpha, client_for):
    account = AccountFactory(owner=alpha.manager)
    opportunity_make(owner=alpha.rep, account=account)
    client = client_for(alpha, alpha.rep)
    assert client.get(reverse("followups:account-edit", args=[account.pk])).status_code == 403
    assert client.get(reverse("followups:contact-new", args=[account.pk])).status_code == 200


def test_a_contact_is_added_from_the_opportunity_page_in_one_htmx_round_trip(alpha, beta, client_for, opp):
    client = client_for(alpha, alpha.rep)
    url = reverse("followups:contact-new", args=[opp.account_id])
    form = client.get(url, {"opportunity": opp.pk}, HTTP_HX_REQUEST="true")
    assert form.status_code == 200 and 'id="chain-card"' in form.content.decode()
    response = client.post(url, {"opportunity": opp.pk, "name": "李主任", "role": "cio", "is_key_person": "on",
                                 "influence": "5", "phone": "138-2468-9753"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "李主任" in response.content.decode()
    contact = Contact.objects.get(account=opp.account, name="李主任")
    assert (contact.role, contact.is_key_person, contact.influence) == ("cio", True, 5)
    assert AuditEntry.objects.filter(verb="contact.created", target_id=str(contact.pk)).exists()
    invalid = client.post(url, {"opportunity": opp.pk, "name": "", "role": "cio", "influence": "3"}, HTTP_HX_REQUEST="true")
    assert "errorlist" in invalid.content.decode()
    assert client_for(alpha, alpha.other_rep).post(url, {"name": "x", "role": "cio", "influence": "3"}).status_code == 404
    assert client_for(beta, beta.admin).post(url, {"name": "x", "role": "cio", "influence": "3"}).status_code == 404
    assert client.get(url, {"opportunity": "abc"}).status_code == 200  # garbage ids are ignored, never a 500


def test_a_rep_opens_an_opportunity_with_a_new_customer_and_owns_both(alpha, client_for):
    response = client_for(alpha, alpha.rep).post(reverse("followups:opportunity-new"), {
        "new_account_name": "浦东新区第七人民医院", "name": "CT 采购", "amount": "1200000",
        "expected_close": "2027-03-31", "product_line": "影像设备", "owner": alpha.other_rep.pk,
    })
    assert response.status_code == 302
    opp = Opportunity.objects.get(name="CT 采购")
    assert opp.owner == alpha.rep and opp.account.owner == alpha.rep  # a rep cannot give it to someone else
    none = client_for(alpha, alpha.rep).post(reverse("followups:opportunity-new"), {"name": "x", "amount": "1"})
    assert none.status_code == 400


def test_a_new_opportunity_cannot_name_a_customer_the_rep_does_not_see(alpha, client_for):
    hidden = AccountFactory(owner=alpha.other_rep)
    response = client_for(alpha, alpha.rep).post(reverse("followups:opportunity-new"), {
        "account": hidden.pk, "name": "越权", "amount": "1"})
    assert response.status_code == 400 and not Opportunity.objects.filter(name="越权").exists()


def test_managers_reassign_within_scope_and_reps_may_not(alpha, client_for, opp):
    url = reverse("followups:opportunity-reassign", args=[opp.pk])
    assert client_for(alpha, alpha.rep).post(url, {"new_owner": alpha.manager.pk}).status_code == 403
    client_for(alpha, alpha.manager).post(url, {"new_owner": alpha.other_rep.pk})  # outside the team: refused
    opp.refresh_from_db()
    assert opp.owner == alpha.rep
    assert client_for(alpha, alpha.manager).post(url, {"new_owner": alpha.manager.pk}).status_code == 302
    opp.refresh_from_db()
    assert opp.owner == alpha.manager
    account_url = reverse("followups:account-reassign", args=[opp.account_id])
    assert client_for(alpha, alpha.other_manager).post(account_url, {"new_owner": alpha.other_manager.pk}).status_code == 404


def test_customer_pages_create_edit_and_list_in_scope(alpha, client_for, django_assert_max_num_queries):
    client = client_for(alpha, alpha.rep)
    assert client.post(reverse("followups:account-new"), {"name": "瑞金医院", "region": "华东区"}).status_code == 302
    account = Account.objects.get(name="瑞金医院")
    assert client.post(reverse("followups:account-edit", args=[account.pk]), {"name": "上海瑞金医院"}).status_code == 302
    contact = ContactFactory(account=account)
    assert client.post(reverse("followups:contact-edit", args=[contact.pk]), {
        "name": contact.name, "role": "finance", "influence": "4"}).status_code == 302
    assert client_for(alpha, alpha.other_rep).get(reverse("followups:contact-edit", args=[contact.pk])).status_code == 404
    for n in range(30):
        AccountFactory(owner=alpha.rep)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("followups:accounts"))
    assert response.status_code == 200 and "上海瑞金医院" in response.content.decode()
    assert "上海瑞金医院" not in client_for(alpha, alpha.other_rep).get(reverse("followups:accounts")).content.decode()
    page = client.get(reverse("followups:account", args=[account.pk])).content.decode()
    assert "上海瑞金医院" in page and 'id="history"' in page
