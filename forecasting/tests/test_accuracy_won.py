"""The amount won per period that every accuracy method is scored against: a deal counts once, on the
tenant-local day of its last move to a won stage, if it is won now, under its owner's team and region today."""
import datetime as dt
from decimal import Decimal

import pytest

from followups.models import Opportunity, Stage, StageChange
from followups.tests.factories import at, opportunity_make
from forecasting.accuracy.measure import accuracy_compute
from forecasting.snapshots import snapshot_take
from salesflow.org.models import Member, Team
from salesflow.org.tests.factories import MemberFactory

pytestmark = pytest.mark.django_db

NOW = at("2026-03-25T10:00:00+08:00")  # scored at lead 1: the weeks of 9 and 16 March
WEEK_9, WEEK_16 = dt.date(2026, 3, 9), dt.date(2026, 3, 16)


def _deal(owner, amount: str) -> Opportunity:
    return opportunity_make(owner=owner, stage="negotiation", amount=Decimal(amount),
                            created_at=at("2026-02-20T10:00:00+08:00"))


def _move(opp: Opportunity, code: str, when: str):
    stage = Stage.objects.get(code=code)
    StageChange.objects.create(opportunity=opp, from_stage=opp.stage, to_stage=stage, actor_label="t", at=at(when),
                               via="t")
    Opportunity.objects.filter(pk=opp.pk).update(stage=stage, is_open=stage.is_open)
    opp.refresh_from_db()


def _won(scope: str = "company", scope_id=None) -> dict[dt.date, float]:
    rows = accuracy_compute(lead=1, now=NOW, scope=scope, scope_id=scope_id).scores["stage"].rows
    return {period: actual for period, _, actual in rows}


@pytest.fixture
def history(alpha):
    """Snapshots on the Mondays of 2, 9 and 16 March, and deals won, reopened and re-won around them."""
    for monday in ("2026-03-02", "2026-03-09", "2026-03-16"):
        snapshot_take(now=at(f"{monday}T00:00:00+08:00"), rebuilt=True)
    plain = _deal(alpha.rep, "1000")
    _move(plain, "won", "2026-03-10T10:00:00+08:00")
    rewon = _deal(alpha.rep, "100000")
    _move(rewon, "won", "2026-03-10T11:00:00+08:00")
    _move(rewon, "negotiation", "2026-03-12T11:00:00+08:00")
    _move(rewon, "won", "2026-03-17T11:00:00+08:00")  # the last move to won decides the day
    reopened = _deal(alpha.rep, "20000")
    _move(reopened, "won", "2026-03-11T11:00:00+08:00")
    _move(reopened, "negotiation", "2026-03-13T11:00:00+08:00")  # open now: won nowhere
    lost = _deal(alpha.rep, "40000")
    _move(lost, "won", "2026-03-11T12:00:00+08:00")
    _move(lost, "lost", "2026-03-12T12:00:00+08:00")  # lost now: won nowhere
    midnight = _deal(alpha.rep, "7000")
    _move(midnight, "won", "2026-03-16T00:30:00+08:00")  # Sunday 15 March in UTC, Monday in the tenant
    return alpha


def test_a_deal_counts_on_its_last_won_day_only_while_won_in_tenant_days(history):
    assert _won() == {WEEK_9: 1000.0, WEEK_16: 107000.0}


def test_a_won_deal_counts_under_its_owners_team_and_region_today(history):
    team_a = history.rep.member.team
    team_b = Team.objects.get(name="B组")
    mover = MemberFactory(team=team_a)
    deal = _deal(mover.user, "3000")
    _move(deal, "won", "2026-03-18T10:00:00+08:00")
    assert _won("team", team_a.pk) == _won("region", team_a.region_id) == {WEEK_9: 1000.0, WEEK_16: 110000.0}

    Member.objects.filter(pk=mover.pk).update(team=team_b, region=None)  # sold in A, in B now

    assert _won("team", team_a.pk) == _won("region", team_a.region_id) == {WEEK_9: 1000.0, WEEK_16: 107000.0}
    assert _won("team", team_b.pk) == _won("region", team_b.region_id) == {WEEK_9: 0.0, WEEK_16: 3000.0}
    assert _won() == {WEEK_9: 1000.0, WEEK_16: 110000.0}


def test_the_run_rate_reads_the_won_days_of_the_four_weeks_before_each_snapshot(history):
    early = _deal(history.rep, "8000")
    _move(early, "won", "2026-02-05T10:00:00+08:00")  # before the first snapshot: read for the run rate only

    rows = accuracy_compute(lead=1, now=NOW).scores["runrate"].rows

    # Week of 9 March: snapshot of 2 March, run rate of 2 Feb – 1 March; week of 16 March: 9 Feb – 8 March.
    assert rows == [(WEEK_9, 2000.0, 1000.0), (WEEK_16, 0.0, 107000.0)]
