"""Bulk actions on leads: every lead through its own service call, audited, with a reason per failure."""
import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from leads.models import Lead, LeadStatus
from leads.services import lead_claim, leads_bulk_claim, leads_bulk_reassign, pool_release_expired
from salesflow.org.models import Member

from .factories import lead_submit


def _pool_leads(n):
    leads = [lead_submit(budget_grade="C").lead for _ in range(n)]
    assert all(lead.status == LeadStatus.POOL for lead in leads)
    return leads


def test_a_rep_claims_several_pool_leads_and_learns_why_some_failed(alpha):
    cooled, taken, fine = _pool_leads(3)
    lead_claim(actor=alpha.rep, lead=cooled, now=timezone.now() - dt.timedelta(hours=80))
    pool_release_expired(now=timezone.now())  # released: the rep now cools off for this one
    lead_claim(actor=alpha.other_rep, lead=taken)
    cooled.refresh_from_db(), taken.refresh_from_db()
    outcomes = {o.item_id: o for o in leads_bulk_claim(actor=alpha.rep, leads=[cooled, taken, fine])}
    assert outcomes[fine.pk].ok
    assert not outcomes[cooled.pk].ok and "recently" in outcomes[cooled.pk].message
    assert not outcomes[taken.pk].ok and "first" in outcomes[taken.pk].message
    assert Lead.objects.get(pk=fine.pk).owner == alpha.rep
    assert AuditEntry.objects.filter(verb="lead.claimed", target_id=str(fine.pk), actor_id=alpha.rep.pk).count() == 1


def test_a_bulk_claim_stops_at_the_reps_capacity(alpha):
    Member.objects.filter(user=alpha.rep).update(capacity=2)
    leads = _pool_leads(3)
    outcomes = leads_bulk_claim(actor=alpha.rep, leads=leads)
    assert [o.ok for o in outcomes] == [True, True, False]
    assert "capacity" in outcomes[2].message
    assert Lead.objects.get(pk=leads[2].pk).status == LeadStatus.POOL


def test_a_manager_bulk_reassigns_leads_each_audited_and_refusals_reported(alpha):
    leads = _pool_leads(2)
    outcomes = leads_bulk_reassign(actor=alpha.manager, leads=leads, new_owner=alpha.rep, reason="区域调整")
    assert all(o.ok for o in outcomes)
    assert set(Lead.objects.filter(pk__in=[l.pk for l in leads]).values_list("owner", flat=True)) == {alpha.rep.pk}
    assert AuditEntry.objects.filter(verb="lead.reassigned", target_id__in=[str(l.pk) for l in leads]).count() == 2
    again = leads_bulk_reassign(actor=alpha.manager, leads=leads, new_owner=alpha.rep, reason="再次")
    assert [o.ok for o in again] == [False, False] and "already owns" in again[0].message


def test_the_pool_page_claims_selected_rows_and_reports_each(alpha, beta, client_for):
    leads = _pool_leads(2)
    client = client_for(alpha, alpha.rep)
    page = client.get(reverse("leads:pool")).content.decode()
    assert f'name="ids" value="{leads[0].pk}"' in page
    response = client.post(reverse("leads:bulk-claim"), {"ids": [leads[0].pk, leads[1].pk, 99999999]})
    assert response.status_code == 200
    assert [o.ok for o in response.context["outcomes"]] == [True, True]
    assert response.context["missing"] == [99999999]
    assert client_for(alpha, alpha.manager).post(reverse("leads:bulk-claim"), {"ids": [leads[0].pk]}).status_code == 403
    assert client_for(beta, beta.admin).post(reverse("leads:bulk-claim"), {"ids": [leads[0].pk]}).status_code == 403
    empty = client.post(reverse("leads:bulk-claim"), {})
    assert empty.status_code == 302
    garbage = client.post(reverse("leads:bulk-claim"), {"ids": ["abc"]})
    assert garbage.status_code == 302


def test_another_reps_lead_is_reported_as_gone_and_never_named(alpha, client_for):
    theirs = _pool_leads(1)[0]
    lead_claim(actor=alpha.other_rep, lead=theirs)
    response = client_for(alpha, alpha.rep).post(reverse("leads:bulk-claim"), {"ids": [theirs.pk]})
    assert response.context["missing"] == [theirs.pk] and theirs.company not in response.content.decode()


def test_the_lead_list_reassigns_selected_rows_for_managers_only(alpha, client_for, django_assert_max_num_queries):
    leads = _pool_leads(3)
    client = client_for(alpha, alpha.manager)
    with django_assert_max_num_queries(16):
        page = client.get(reverse("leads:index"))
    assert 'id="lead-bulk-form"' in page.content.decode()
    response = client.post(reverse("leads:bulk-reassign"), {"ids": [l.pk for l in leads], "new_owner": alpha.rep.pk,
                                                             "reason": "新人练手"})
    assert [o.ok for o in response.context["outcomes"]] == [True, True, True]
    assert client_for(alpha, alpha.rep).post(reverse("leads:bulk-reassign"), {
        "ids": [leads[0].pk], "new_owner": alpha.rep.pk, "reason": "x"}).status_code == 404
    no_reason = client.post(reverse("leads:bulk-reassign"), {"ids": [leads[0].pk], "new_owner": alpha.rep.pk})
    assert no_reason.status_code == 302
