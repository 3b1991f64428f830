import datetime as dt

import pytest
from django.utils import timezone

from audit.models import AuditEntry
from leads.models import LeadStatus, RepLoad
from leads.services import ClaimRefused, lead_claim, lead_touch_record, pool_release_expired

from .factories import lead_submit


def test_a_rep_claims_a_pool_lead_and_a_second_claim_is_refused_clearly(alpha):
    lead = lead_submit(budget_grade="C").lead
    lead_claim(actor=alpha.rep, lead=lead)
    lead.refresh_from_db()
    assert lead.owner == alpha.rep and lead.status == LeadStatus.ACCEPTED
    with pytest.raises(ClaimRefused, match="这条线索已被他人抢先领取"):
        lead_claim(actor=alpha.other_rep, lead=lead)
    assert AuditEntry.objects.filter(verb="lead.claimed", target_id=str(lead.pk)).count() == 1


def test_managers_do_not_claim(alpha):
    with pytest.raises(ClaimRefused):
        lead_claim(actor=alpha.manager, lead=lead_submit(budget_grade="C").lead)


def test_an_unfollowed_claim_is_released_after_72_hours_and_the_claimer_cools_off(alpha):
    lead = lead_submit(budget_grade="C").lead
    claimed_at = timezone.now() - dt.timedelta(hours=73)
    lead_claim(actor=alpha.rep, lead=lead, now=claimed_at)
    assert RepLoad.objects.get(user=alpha.rep).open_count == 1
    assert pool_release_expired(now=timezone.now()) == 1
    assert pool_release_expired(now=timezone.now()) == 0
    lead.refresh_from_db()
    assert lead.status == LeadStatus.POOL and lead.owner is None
    assert RepLoad.objects.get(user=alpha.rep).open_count == 0
    assert AuditEntry.objects.filter(verb="lead.released", target_id=str(lead.pk)).exists()
    with pytest.raises(ClaimRefused, match="最近领取过"):
        lead_claim(actor=alpha.rep, lead=lead)
    lead_claim(actor=alpha.other_rep, lead=lead)


def test_a_followed_up_claim_is_kept(alpha):
    lead = lead_submit(budget_grade="C").lead
    start = timezone.now() - dt.timedelta(hours=80)
    lead_claim(actor=alpha.rep, lead=lead, now=start)
    lead_touch_record(actor=alpha.rep, lead=lead, kind="call", now=start + dt.timedelta(hours=1))
    assert pool_release_expired(now=timezone.now()) == 0
    lead.refresh_from_db()
    assert lead.owner == alpha.rep


def test_a_claim_younger_than_72_hours_stays(alpha):
    lead = lead_submit(budget_grade="C").lead
    lead_claim(actor=alpha.rep, lead=lead, now=timezone.now() - dt.timedelta(hours=71))
    assert pool_release_expired(now=timezone.now()) == 0


def test_merging_by_hand_moves_touches_frees_the_slot_and_is_audited(alpha, client_for):
    from leads.models import Lead, LeadTouch

    keep = lead_submit(budget_grade="B", region="上海", product_line="影像设备").lead
    extra = lead_submit(budget_grade="B", region="上海", product_line="影像设备").lead
    lead_touch_record(actor=alpha.rep, lead=extra, kind="call")
    before = RepLoad.objects.get(user=alpha.rep).open_count
    response = client_for(alpha, alpha.admin).post(
        "/admin/leads/lead/", {"action": "merge_into_oldest", "_selected_action": [keep.pk, extra.pk]})
    assert response.status_code == 302
    extra.refresh_from_db()
    assert extra.status == LeadStatus.MERGED and extra.merged_into_id == keep.pk
    assert LeadTouch.objects.filter(lead=keep, kind="call").exists()
    assert RepLoad.objects.get(user=alpha.rep).open_count == before - 1
    assert AuditEntry.objects.filter(verb="lead.merged", target_id=str(keep.pk)).exists()
    assert Lead.objects.exclude(status="merged").filter(pk=extra.pk).count() == 0
