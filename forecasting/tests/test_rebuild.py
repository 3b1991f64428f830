"""The set-based rebuild of many weeks reads exactly what the one-week statement reads."""
import datetime as dt
import random
from decimal import Decimal

import pytest

from audit.models import AuditEntry
from followups.models import Opportunity, RecordChange, RecordKind, Stage, StageChange
from followups.tests.factories import at, opportunity_make
from forecasting.demo_forecast import forecast_history_seed
from forecasting.models import (
    Evidence, EvidenceReview, ForecastSnapshot, SnapshotLine, SnapshotResidual, SnapshotRollup,
)
from forecasting.models_forecast import CommitEntry
from forecasting.snapshots import history_rebuild, history_rebuild_weekly, snapshot_take

pytestmark = pytest.mark.django_db

NOW = at("2026-03-18T15:00:00+08:00")  # a Wednesday; the week of 2026-03-16 is "this week"

LINE_FIELDS = ("opportunity_id", "owner_id", "team_id", "region_id", "stage_id", "amount", "close_date",
               "close_week", "credit", "band", "credit_weight", "stage_weight", "category", "lead", "stage_fit_weight")


def _frozen() -> dict:
    """Week → (lines, curve, digest, totals, roll-ups) of every frozen snapshot."""
    frozen = {}
    for snapshot in ForecastSnapshot.objects.order_by("week"):
        lines = list(SnapshotLine.objects.filter(snapshot=snapshot).order_by("opportunity_id").values_list(*LINE_FIELDS))
        rollups = sorted(SnapshotRollup.objects.filter(snapshot=snapshot).values_list(
            "level", "key", "close_week", "opportunities", "amount", "weighted", "stage_weighted", "committed",
            "stage_fit_weighted"), key=repr)
        residuals = sorted(SnapshotResidual.objects.filter(snapshot=snapshot).values_list("level", "key", "lead", "amount"),
                           key=repr)
        frozen[snapshot.week] = (lines, snapshot.weights, snapshot.digest, snapshot.taken_at,
                                 (snapshot.opportunities, snapshot.weighted, snapshot.stage_weighted,
                                  snapshot.committed), rollups, residuals)
    return frozen


def _forget_snapshots():
    SnapshotRollup.objects.all().delete()
    SnapshotResidual.objects.all().delete()
    SnapshotLine.objects.all().delete()
    ForecastSnapshot.objects.all().delete()


def _edge_cases(alpha):
    """Events exactly at a Monday 00:00, a review before and after, amounts cleared and changed twice."""
    monday = at("2026-02-23T00:00:00+08:00")
    opp = opportunity_make(owner=alpha.rep, stage="initial_contact", amount=Decimal("100000"),
                           created_at=at("2026-01-20T10:00:00+08:00"))
    Opportunity.objects.filter(pk=opp.pk).update(expected_close=dt.date(2026, 3, 10))
    negotiation = Stage.objects.get(code="negotiation")
    StageChange.objects.create(opportunity=opp, from_stage=opp.stage, to_stage=negotiation, actor_label="t",
                               at=monday, via="t")  # at the instant: counts for that week
    for when, old, new in ((at("2026-02-02T09:00:00+08:00"), "100000.00", "150000.00"),
                           (at("2026-03-03T09:00:00+08:00"), "150000.00", "120000.00")):
        RecordChange.objects.create(record_type=RecordKind.OPPORTUNITY, record_id=opp.pk, account_id=opp.account_id,
                                    field="amount", old_value=old, new_value=new, actor_label="t", at=when, via="t")
    RecordChange.objects.create(record_type=RecordKind.OPPORTUNITY, record_id=opp.pk, account_id=opp.account_id,
                                field="expected_close", old_value="2026-02-27", new_value="2026-03-10",
                                actor_label="t", at=at("2026-02-26T09:00:00+08:00"), via="t")
    early = Evidence.objects.create(opportunity=opp, source="minutes", level=2, points=2, state="downgraded",
                                    created_at=at("2026-01-25T10:00:00+08:00"))
    EvidenceReview.objects.create(evidence=early, action="downgrade", level_before=2, level_after=3,
                                  points_before=6, points_after=2, reason="r", at=at("2026-02-10T10:00:00+08:00"))
    reviewed_first = Evidence.objects.create(opportunity=opp, source="note", level=3, points=0, state="rejected",
                                             created_at=at("2026-02-12T10:00:00+08:00"))
    EvidenceReview.objects.create(evidence=reviewed_first, action="reject", level_before=3, level_after=3,
                                  points_before=2, points_after=0, reason="r", at=at("2026-02-11T10:00:00+08:00"))
    Evidence.objects.create(opportunity=opp, source="note", level=3, points=2, created_at=monday)
    CommitEntry.objects.create(opportunity=opp, category="commit", period=dt.date(2026, 3, 9),
                               at=at("2026-02-20T10:00:00+08:00"))
    CommitEntry.objects.create(opportunity=opp, category="best_case", period=dt.date(2026, 3, 9),
                               at=at("2026-03-04T10:00:00+08:00"))
    return opp


def _move_rep(alpha):
    """alpha.rep was in their team since January and moved to a team of another region on 4 March."""
    from salesflow.org.models import Member, MembershipPeriod, Region
    from salesflow.org.tests.factories import TeamFactory

    MembershipPeriod.objects.filter(user=alpha.rep).update(valid_from=at("2026-01-01T00:00:00+08:00"))
    member = Member.objects.get(user=alpha.rep)
    old_team, member.team = member.team, TeamFactory(name="北京三组", region=Region.objects.get(name="华北区"))
    member.save()
    MembershipPeriod.objects.filter(user=alpha.rep, team=member.team).update(valid_from=at("2026-03-04T10:00:00+08:00"))
    return old_team, member.team


def test_the_set_based_rebuild_equals_the_weekly_statement_line_for_line(alpha):
    forecast_history_seed(rng=random.Random(5), count=240, signal=0.6, now=NOW)
    opp = _edge_cases(alpha)
    old_team, new_team = _move_rep(alpha)
    assert EvidenceReview.objects.exists() and RecordChange.objects.filter(field="amount", old_value__isnull=False).exists()

    history_rebuild_weekly(now=NOW, weeks=12)
    weekly = _frozen()
    _forget_snapshots()
    results = history_rebuild(now=NOW, weeks=12)
    rebuilt = _frozen()

    assert len(results) == 12 and all(r.new for r in results)
    assert sorted(weekly) == sorted(rebuilt) and len(rebuilt) == 12
    for week in weekly:
        assert rebuilt[week][0] == weekly[week][0], week
        assert rebuilt[week][1:] == weekly[week][1:], week  # weights, digest, instant, totals, roll-ups, residual
    assert sum(len(v[0]) for v in rebuilt.values()) > 500
    teams = {week: line[2] for week, v in rebuilt.items() for line in v[0] if line[0] == opp.pk}
    assert teams[dt.date(2026, 3, 2)] == old_team.pk and teams[dt.date(2026, 3, 9)] == new_team.pk  # of then
    assert any(lead["lines"] for lead in rebuilt[max(rebuilt)][1]["leads"])  # the late weights were fitted on something
    assert any(v[6] for v in rebuilt.values())  # and residuals frozen


def test_a_rebuilt_week_equals_the_live_snapshot_of_a_week_nothing_changed_after(alpha):
    forecast_history_seed(rng=random.Random(8), count=120, signal=0.6, now=at("2026-03-01T20:00:00+08:00"))
    live = snapshot_take(now=at("2026-03-02T00:00:00+08:00"))  # Monday 00:00, nothing recorded later
    frozen = _frozen()
    _forget_snapshots()

    results = history_rebuild(now=NOW, weeks=2)  # weeks of 03-02 and 03-09: no earlier snapshot, like the live one

    week = dt.date(2026, 3, 2)
    assert live.new and results[0].week == week and results[0].opportunities == live.opportunities > 0
    assert _frozen()[week][:3] == frozen[week][:3]  # same lines, same weights, same digest
    assert ForecastSnapshot.objects.get(week=week).rebuilt is True


def test_the_rebuild_keeps_frozen_weeks_and_audits_each_new_one(alpha):
    forecast_history_seed(rng=random.Random(9), count=80, signal=0.0, now=NOW)
    snapshot_take(now=at("2026-03-03T09:00:00+08:00"))
    kept = ForecastSnapshot.objects.get(week=dt.date(2026, 3, 2))
    kept_lines = list(SnapshotLine.objects.filter(snapshot=kept).values_list(*LINE_FIELDS))

    results = history_rebuild(now=NOW, weeks=4)
    again = history_rebuild(now=NOW, weeks=4)

    assert [r.new for r in results] == [True, True, False, True]
    assert not any(r.new for r in again)
    assert ForecastSnapshot.objects.get(week=dt.date(2026, 3, 2)).digest == kept.digest
    assert list(SnapshotLine.objects.filter(snapshot=kept).values_list(*LINE_FIELDS)) == kept_lines
    entries = AuditEntry.objects.filter(verb="forecast.snapshot_frozen", payload__rebuilt=True)
    assert entries.count() == 3
    assert {e.payload["digest"] for e in entries} == set(
        ForecastSnapshot.objects.filter(rebuilt=True).values_list("digest", flat=True))


def test_the_rebuild_ignores_what_was_recorded_after_each_monday(alpha):
    opp = _edge_cases(alpha)

    history_rebuild(now=NOW, weeks=8)

    def line(week):
        return SnapshotLine.objects.get(snapshot__week=week, opportunity_id=opp.pk)

    before = line(dt.date(2026, 2, 16))
    assert before.stage_id == Stage.objects.get(code="initial_contact").pk
    assert before.amount == Decimal("150000")
    assert before.close_date == dt.date(2026, 2, 27)  # the old value of the later change
    assert before.credit == 2 + 0  # downgraded by then; the rejected item counts 0 (reviewed before it was filed)
    assert before.category == "pipeline"  # not committed yet
    on_monday = line(dt.date(2026, 2, 23))
    assert on_monday.stage_id == Stage.objects.get(code="negotiation").pk  # recorded at the instant itself
    assert on_monday.credit == 2 + 0 + 2
    late = line(dt.date(2026, 3, 9))
    assert (late.amount, late.close_date, late.category) == (Decimal("120000"), dt.date(2026, 3, 10), "best_case")
    assert line(dt.date(2026, 1, 26)).credit == 6  # before the downgrade: the points it had then


def _expected_sums(lead: int, monthly: bool) -> dict:
    """(snapshot week, period start) → (credit, stage, commit, fitted stage), straight from the lines and
    the frozen company residual in Python (the residual spread over the period's days at each day's lead)."""
    from forecasting.weeks import month_start, monday_of, next_month

    sums = {}
    for line in SnapshotLine.objects.select_related("snapshot").exclude(close_date=None):
        start = month_start(line.close_date) if monthly else line.close_week
        key = (line.snapshot.week, start)
        credit, stage, commit, fitted = sums.get(key, (0.0, 0.0, 0.0, 0.0))
        amount = float(line.amount)
        sums[key] = (credit + amount * line.credit_weight, stage + amount * line.stage_weight,
                     commit + (amount if line.category == "commit" else 0.0), fitted + amount * line.stage_fit_weight)
    residual = {(r.snapshot.week, r.lead): float(r.amount)
                for r in SnapshotResidual.objects.select_related("snapshot").filter(level="company")}
    for (week, start), (credit, stage, commit, fitted) in list(sums.items()):
        end = next_month(start) if monthly else start + dt.timedelta(weeks=1)
        extra = sum(residual.get((week, min(max((monday_of(start + dt.timedelta(days=d)) - week).days // 7, 0), 11)), 0.0)
                    for d in range((end - start).days)) / 7
        sums[(week, start)] = (credit + extra, stage, commit, fitted + extra)
    return sums


@pytest.mark.parametrize("monthly", [False, True])
def test_accuracy_reads_only_the_lines_of_the_scored_snapshot_and_period(alpha, monthly):
    from forecasting.accuracy.measure import accuracy_measure
    from forecasting.weeks import monday_of

    forecast_history_seed(rng=random.Random(4), count=200, signal=0.6, now=NOW)
    history_rebuild(now=NOW, weeks=16)

    for lead in (1, 4):
        result = accuracy_measure(lead=lead, now=NOW, monthly=monthly)
        expected = _expected_sums(lead, monthly)
        assert result.scores["credit"].periods > (1 if monthly else 8)
        for method, index in (("credit", 0), ("stage", 1), ("commit", 2), ("stage_fitted", 3)):
            for period, forecast, _ in result.scores[method].rows:
                snap_week = monday_of(period) - dt.timedelta(weeks=lead)
                assert forecast == pytest.approx(expected.get((snap_week, period), (0.0, 0.0, 0.0, 0.0))[index]), (
                    method, lead, period)
        assert result.lines_scored > 0 and 0 <= result.brier_credit <= 1
