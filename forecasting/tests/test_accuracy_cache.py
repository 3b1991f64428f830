"""The accuracy figures are kept under the data version: re-read for free, recomputed on any change."""
import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from followups.models import Opportunity, Stage, StageChange
from followups.tests.factories import at, opportunity_make
from forecasting.accuracy.calibration import calibration
from forecasting.accuracy.measure import accuracy_measure
from forecasting.models_forecast import CommitAdjustment
from forecasting.snapshots import snapshot_take

pytestmark = pytest.mark.django_db

NOW = at("2026-03-18T10:00:00+08:00")


def _open_deal(alpha, amount="100000"):
    opp = opportunity_make(owner=alpha.rep, stage="negotiation", amount=Decimal(amount),
                           created_at=at("2026-02-20T10:00:00+08:00"))
    Opportunity.objects.filter(pk=opp.pk).update(expected_close=dt.date(2026, 3, 10))
    opp.refresh_from_db()
    return opp


def _win(opp, when):
    won = Stage.objects.get(code="won")
    StageChange.objects.create(opportunity=opp, from_stage=opp.stage, to_stage=won, actor_label="t", at=when, via="t")
    Opportunity.objects.filter(pk=opp.pk).update(stage=won, is_open=False)


def test_a_second_read_with_nothing_changed_costs_one_statement_and_answers_the_same(alpha):
    first, second = _open_deal(alpha), _open_deal(alpha, amount="50000")
    snapshot_take(now=at("2026-03-02T00:00:00+08:00"), rebuilt=True)
    _win(first, at("2026-03-11T15:00:00+08:00"))
    result, bands = accuracy_measure(lead=1, now=NOW), calibration()

    with CaptureQueriesContext(connection) as captured:
        again, bands_again = accuracy_measure(lead=1, now=NOW), calibration()

    assert len(captured) <= 4  # the data version (and the tenant settings), nothing scanned
    assert again.scores["stage"].rows == result.scores["stage"].rows == [(dt.date(2026, 3, 9), 120000.0, 100000.0)]
    assert [b.lines for b in bands_again] == [b.lines for b in bands]

    _win(second, at("2026-03-12T15:00:00+08:00"))  # a new stage change: a new version
    changed = accuracy_measure(lead=1, now=NOW)
    assert changed.scores["stage"].rows == [(dt.date(2026, 3, 9), 120000.0, 150000.0)]
    # Both lines' forecast week is over (their outcome, won within it or not, was known already): the
    # share won within the week moves from one of two to two of two.
    assert [b.won_share for b in calibration() if b.lines] == [1.0] and [b.won_share for b in bands if b.lines] == [0.5]


def test_a_manager_adjustment_is_a_new_version_too(alpha):
    opp = _open_deal(alpha)
    snapshot_take(now=at("2026-03-02T00:00:00+08:00"), rebuilt=True)
    _win(opp, at("2026-03-11T15:00:00+08:00"))
    assert accuracy_measure(lead=1, now=NOW).adjusted is None

    CommitAdjustment.objects.create(team=alpha.rep.member.team, period=dt.date(2026, 3, 9), amount=Decimal("90000"),
                                    rollup=Decimal("0"), note="n", at=at("2026-03-03T10:00:00+08:00"))

    adjusted = accuracy_measure(lead=1, now=NOW).adjusted
    assert adjusted is not None and adjusted.rows == [(dt.date(2026, 3, 9), 90000.0, 100000.0)]


def test_a_rep_moving_team_is_a_new_version_too(alpha):
    from salesflow.org.models import Member, Region
    from salesflow.org.tests.factories import TeamFactory

    opp = _open_deal(alpha)
    snapshot_take(now=at("2026-03-02T00:00:00+08:00"), rebuilt=True)
    _win(opp, at("2026-03-11T15:00:00+08:00"))
    team = alpha.rep.member.team
    assert accuracy_measure(lead=1, now=NOW, scope="team", scope_id=team.pk).scores["stage"].rows[0][2] == 100000.0

    member = Member.objects.get(user=alpha.rep)
    member.team = TeamFactory(name="北京三组", region=Region.objects.first())
    member.save()  # won amounts count under the owner's team today: the old team won nothing now

    assert accuracy_measure(lead=1, now=NOW, scope="team", scope_id=team.pk).scores["stage"].rows[0][2] == 0.0
