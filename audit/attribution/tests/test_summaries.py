"""The closed-deal summaries the page counts against the direct count of every follow-up (the
page's first statement, `reference.attribution_count_direct`), after edits made after closing."""
import datetime as dt

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from audit.attribution.reference import attribution_count_direct, closed_opportunities
from audit.attribution.selectors import CELL, attribution_count, closed_deals
from followups.models import (
    ActionKey,
    ActionTemplate,
    ClosedDeal,
    Contact,
    ContactRole,
    FollowUpKind,
    Opportunity,
    Stage,
)
from followups.models_closed import CLOSED_DEAL_ACTIONS, CLOSED_DEAL_KINDS, CLOSED_DEAL_ROLES
from followups.services import contact_create, contact_update, followup_log, opportunity_stage_change
from followups.tests.factories import opportunity_make
from leads.tests.factories import lead_submit
from salesflow.org.models import Member, Region

from .factories import closed_deal, touch

START = timezone.now() - dt.timedelta(days=120)
WINDOWS = (1, 3, 7, 10, 30, 45, 365)


def _summary(user, left, right, window):
    counted = attribution_count(deals=closed_deals(user=user), left_region_id=left, right_region_id=right,
                                window_days=window)
    out = {}
    for side, c in counted.items():
        cells = {(CELL, "|".join((x.channel, x.first_touch, x.combination, x.coverage))): (x.won, x.lost) for x in c.cells}
        out[side] = (c.won, c.lost, {**c.counts, **cells})
    return out


def _direct(user, left, right, window):
    return attribution_count_direct(deals=closed_opportunities(user=user), left_region_id=left,
                                    right_region_id=right, window_days=window)


def _assert_same(user):
    east, north = Region.objects.get(name="华东区").pk, Region.objects.get(name="华北区").pk
    for left, right in ((None, None), (east, north), (north, east)):
        for window in WINDOWS:
            assert _summary(user, left, right, window) == _direct(user, left, right, window), (left, right, window)


@pytest.fixture
def deals(alpha):
    """Closed deals in two regions with touches inside and outside windows, templates, a lead
    channel, a correction and a touch dated before the deal was created."""
    rep, other = alpha.rep, alpha.other_rep
    web = lead_submit(channel="web_form", phone="13700000011").lead
    quote = ActionTemplate.objects.get(code="quote_sent")
    made = {}
    for n, (owner, won, days_open) in enumerate([(rep, True, 20), (rep, False, 12), (rep, False, 50), (rep, True, 40),
                                                 (other, True, 20), (other, False, 5), (rep, False, 8)]):
        made[n] = deal = closed_deal(owner=owner, won=won, created_at=START + dt.timedelta(hours=n), days_open=days_open)
        touch(deal, day=0.5 + n % 3, roles=["cio"] if won else ["purchasing"], kind=FollowUpKind.VISIT if won else FollowUpKind.CALL)
        touch(deal, day=2 + n, roles=["engineer", "purchasing"], action=ActionKey.DEMO)
        touch(deal, day=8, action=ActionKey.QUOTE, template=quote)
        touch(deal, day=35, roles=["cio"], action=ActionKey.POC, kind=FollowUpKind.MEETING)
    Opportunity.objects.filter(pk=made[0].pk).update(source_lead_id=web.pk)
    touch(made[1], day=-1, roles=["cio"], kind=FollowUpKind.EMAIL)  # before the deal was created
    original = made[2].followups.order_by("id").first()
    touch(made[2], day=0.1, roles=["engineer"], corrects=original, kind=FollowUpKind.WECHAT)
    return made


def test_the_summaries_equal_the_direct_count(alpha, deals):
    assert ClosedDeal.objects.count() == 7
    _assert_same(alpha.admin)


def test_edits_after_closing_keep_the_summaries_equal_to_the_direct_count(alpha, deals):
    deal = deals[1]
    # A follow-up logged late, backdated into the deal's first days, through the service.
    followup_log(actor=alpha.rep, opportunity=deal, kind=FollowUpKind.WECHAT, summary="补记：拜访财务",
                 action=ActionKey.PROPOSAL, occurred_at=deal.created_at + dt.timedelta(days=1),
                 contacts=[Contact.objects.create(account_id=deal.account_id, name="财务", role=ContactRole.FINANCE)])
    # A contact changes role and becomes a key person; another account gains a key person.
    engineer = Contact.objects.get(account_id=deals[0].account_id, role="engineer")
    contact_update(actor=alpha.manager, contact=engineer, name=engineer.name, role=ContactRole.FINANCE, is_key_person=True)
    contact_create(actor=alpha.rep, account=deals[3].account, name="新主任", role=ContactRole.END_USER, is_key_person=True)
    # A deal reopened, and one won deal turned into a loss later.
    reopened = deals[2]
    Opportunity.objects.filter(pk=reopened.pk).update(is_open=True, stage=Stage.objects.get(code="initial_contact"))
    assert not ClosedDeal.objects.filter(pk=reopened.pk).exists()
    Opportunity.objects.filter(pk=deals[4].pk).update(stage=Stage.objects.get(code="lost"),
                                                     stage_entered_at=deals[4].created_at + dt.timedelta(days=3))
    # Contacts touched by a follow-up, removed later.
    followup = deals[5].followups.order_by("id").first()
    followup.contacts.clear()
    _assert_same(alpha.admin)
    summary = ClosedDeal.objects.get(pk=deals[4].pk)
    assert summary.won is False and summary.action_at == [None] * 10  # the demo came on day 6, after the new close


def test_closing_through_the_service_writes_the_summary_in_the_same_transaction(alpha):
    deal = opportunity_make(owner=alpha.rep, created_at=START)
    touch(deal, day=1, roles=[], action=ActionKey.DEMO)
    with transaction.atomic():
        opportunity_stage_change(actor=alpha.rep, opportunity=deal, to_stage=Stage.objects.get(code="lost"),
                                 via="web", lost_reason="预算取消")
        summary = ClosedDeal.objects.get(pk=deal.pk)
        assert summary.won is False and summary.action_at[CLOSED_DEAL_ACTIONS.index("demo")] is not None
    assert summary.team_id == Member.objects.get(user=alpha.rep).team_id


def test_region_and_team_stay_as_of_the_close_when_the_rep_moves(alpha, deals):
    before = ClosedDeal.objects.get(pk=deals[0].pk)
    other_team = Member.objects.get(user=alpha.other_rep).team
    Member.objects.filter(user=alpha.rep).update(team=other_team, region=other_team.region)
    touch(deals[0], day=1, roles=["engineer"])  # the deal's summary is rewritten after the move
    after = ClosedDeal.objects.get(pk=deals[0].pk)
    engineer = CLOSED_DEAL_ROLES.index("engineer")
    assert after.role_at[engineer] < before.role_at[engineer]
    assert (after.region_id, after.team_id) == (before.region_id, before.team_id) != (other_team.region_id, other_team.pk)
    # Handed to another owner, the deal takes the new owner's place.
    Opportunity.objects.filter(pk=deals[0].pk).update(owner=alpha.other_rep)
    moved = ClosedDeal.objects.get(pk=deals[0].pk)
    other = Member.objects.get(user=alpha.other_rep)
    assert (moved.owner_id, moved.team_id) == (alpha.other_rep.pk, other.team_id)


def test_the_backfill_command_rewrites_every_summary(alpha, deals):
    east = Region.objects.get(name="华东区").pk
    expected = _summary(alpha.admin, east, None, 30)
    ClosedDeal.objects.all().delete()
    call_command("refresh_closed_deals", schema=alpha.tenant.schema_name)
    assert ClosedDeal.objects.count() == 7
    assert _summary(alpha.admin, east, None, 30) == expected


def test_the_array_layout_matches_the_choices():
    """A new action kind, role or follow-up kind needs a migration that rewrites the SQL
    function of 0014 with the new layout and refreshes the rows; this test says so."""
    assert list(CLOSED_DEAL_ACTIONS) == [a for a in ActionKey.values if a != ActionKey.TOUCH]
    assert list(CLOSED_DEAL_ROLES) == list(ContactRole.values)
    assert list(CLOSED_DEAL_KINDS) == list(FollowUpKind.values)
