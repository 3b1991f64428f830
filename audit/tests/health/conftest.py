import datetime as dt
import itertools
import zoneinfo

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from audit.health.selectors import health_generation_bump
from followups.models import FollowUp
from followups.tests.factories import AccountFactory, ContactFactory, opportunity_make
from leads.models import Lead, LeadStatus

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
# A Friday afternoon, tenant time: the rolling 30 days run from 2026-10-21 14:00.
NOW = dt.datetime(2026, 11, 20, 14, 0, tzinfo=SHANGHAI)
_phones = itertools.count(13700000000)


@pytest.fixture(autouse=True)
def _fresh_health_figures():
    """Figures are remembered in Redis for minutes, beyond a test's rollback: start each test without them."""
    previous = connection.schema_name
    for schema in ("alpha", "beta"):
        with schema_context(schema):
            health_generation_bump()
    connection.set_schema(previous) if previous != "public" else connection.set_schema_to_public()
    yield


def touch(opportunity, *, at, contacts=(), author=None, corrects=None) -> FollowUp:
    followup = FollowUp.objects.create(
        opportunity=opportunity, account=opportunity.account, author=author or opportunity.owner, kind="call",
        summary="电话沟通", occurred_at=at, logged_at=at, stage=opportunity.stage, corrects=corrects,
    )
    followup.contacts.add(*contacts)
    return followup


def lead_assigned(owner, *, at, first_touch_after: dt.timedelta | None) -> Lead:
    return Lead.objects.create(
        contact_name="王经理", company="测试医院", phone=str(next(_phones)), channel="api", owner=owner,
        status=LeadStatus.CONTACTED if first_touch_after else LeadStatus.ASSIGNED, assigned_at=at,
        first_touch_at=at + first_touch_after if first_touch_after else None, created_at=at,
    )


@pytest.fixture
def small_book(alpha):
    """The rep's hand-countable month (see test_figures for the counts), and one customer of rep_b.

    Customer A: key people K1, K2 and one other person; B: key person K3.
    In the 30 days: A touched 3 times (K1 once, K2 once), B once (nobody key); plus one touch
    before the window and one correction (neither counts). Leads: first touches after 1 h, 3 h,
    5 h and one still waiting 10 h → median 4 h.
    """
    rep = alpha.rep
    day = dt.timedelta(days=1)
    a = AccountFactory(owner=rep, name="甲医院")
    k1, k2 = ContactFactory(account=a, name="甲主任"), ContactFactory(account=a, name="乙处长")
    other = ContactFactory(account=a, name="丙工程师", is_key_person=False)
    b = AccountFactory(owner=rep, name="乙医院")
    k3 = ContactFactory(account=b, name="丁院长")
    covered = opportunity_make(owner=rep, account=a, created_at=NOW - 60 * day, name="甲影像")
    uncovered = opportunity_make(owner=rep, account=b, created_at=NOW - 40 * day, name="乙试剂", amount=900000)
    # Closed long before the window: not open in it, so not in depth.
    opportunity_make(owner=rep, account=a, created_at=NOW - 200 * day, stage="lost",
                     stage_entered_at=NOW - 100 * day, name="甲旧单")
    touch(covered, at=NOW - 20 * day, contacts=[k1, other])
    touch(covered, at=NOW - 10 * day, contacts=[k2])
    first = touch(covered, at=NOW - 2 * day)
    touch(covered, at=NOW - 1 * day, corrects=first)
    touch(uncovered, at=NOW - 5 * day)
    touch(uncovered, at=NOW - 45 * day, contacts=[k3])  # before the window
    for hours in (1, 3, 5):
        lead_assigned(rep, at=NOW - 3 * day, first_touch_after=dt.timedelta(hours=hours))
    lead_assigned(rep, at=NOW - dt.timedelta(hours=10), first_touch_after=None)
    # Another team's rep: never in the manager's figures.
    c = AccountFactory(owner=alpha.other_rep, name="丙医院")
    theirs = opportunity_make(owner=alpha.other_rep, account=c, created_at=NOW - 30 * day)
    touch(theirs, at=NOW - 3 * day, contacts=[ContactFactory(account=c)])
    return {"covered": covered, "uncovered": uncovered, "k3": k3}


