"""Sealed weeks: the accuracy page reads the same figures whether a week's lines were rolled up or not."""
import datetime as dt
import random
from decimal import Decimal

import pytest
from django.db import transaction

from followups.models import Opportunity, RecordChange, RecordKind, Stage, StageChange
from followups.tests.factories import at
from forecasting.accuracy.calibration import calibration_compute
from forecasting.accuracy.measure import accuracy_compute
from forecasting.accuracy.scores import PAGE_METHODS
from forecasting.demo_forecast import forecast_history_seed
from forecasting.models import SealedLineSums, SealedWeek, SnapshotLine
from forecasting.sealing import weeks_seal
from forecasting.snapshots import history_rebuild

pytestmark = pytest.mark.django_db

NOW = at("2026-03-18T15:00:00+08:00")  # a Wednesday; the rebuild seals the weeks before 2026-03-16


def _scopes() -> list[tuple[str, int | None]]:
    line = SnapshotLine.objects.exclude(team_id=None).exclude(region_id=None).order_by("id").first()
    return [("company", None), ("region", line.region_id), ("team", line.team_id)]


def _figures() -> dict:
    """Every figure of the accuracy page: each method's rows, Brier, lines scored, calibration; per scope,
    lead and weeks/months."""
    figures = {}
    for scope, scope_id in _scopes():
        figures[(scope, "calibration")] = calibration_compute(scope=scope, scope_id=scope_id)
        for lead in (1, 4):
            for monthly in (False, True):
                result = accuracy_compute(lead=lead, now=NOW, scope=scope, scope_id=scope_id, monthly=monthly)
                figures[(scope, lead, monthly)] = (
                    {m: result.scores[m].rows for m in PAGE_METHODS},
                    result.adjusted and result.adjusted.rows,
                    result.brier_credit, result.brier_stage, result.brier_stage_fitted, result.lines_scored,
                )
    return figures


def _direct() -> dict:
    """The figures read from the lines alone: nothing sealed (rolled back afterwards)."""
    with transaction.atomic():
        SealedLineSums.objects.all().delete()
        SealedWeek.objects.all().delete()
        figures = _figures()
        transaction.set_rollback(True)
    return figures


def _forecast_sums(figures: dict) -> dict:
    return {key: {m: [(period, forecast) for period, forecast, _ in rows[m]] for m in ("credit", "stage", "commit")}
            for key, (rows, *_rest) in figures.items() if key[1] != "calibration"}


@pytest.fixture
def history(alpha):
    forecast_history_seed(rng=random.Random(4), count=200, signal=0.6, now=NOW)
    history_rebuild(now=NOW, weeks=12)
    return alpha


def _move(opp: Opportunity, code: str, when: dt.datetime):
    to_stage = Stage.objects.get(code=code)
    StageChange.objects.create(opportunity=opp, from_stage=opp.stage, to_stage=to_stage, actor_label="t", at=when,
                               via="t")
    Opportunity.objects.filter(pk=opp.pk).update(stage=to_stage, is_open=to_stage.is_open)
    opp.refresh_from_db()


def test_the_rebuild_seals_every_week_over_and_the_figures_equal_the_lines(history):
    sealed = _figures()

    assert SealedWeek.objects.exists() and SealedLineSums.objects.exists()
    assert not SealedWeek.objects.filter(week__gte=dt.date(2026, 3, 16)).exists()  # this week is not over
    assert sealed == _direct()
    rows = sealed[("company", 1, False)]
    assert rows[5] > 0 and rows[2] is not None and rows[4] is not None and len(rows[0]["credit"]) >= 10
    assert any(b.lines for b in sealed[("company", "calibration")])


def test_before_sealing_part_sealed_and_sealed_twice_the_figures_are_the_same(history):
    direct = _direct()
    SealedLineSums.objects.all().delete()
    SealedWeek.objects.all().delete()
    assert _figures() == direct

    assert weeks_seal(now=NOW - dt.timedelta(weeks=4)) > 0  # only the weeks over four weeks earlier
    assert _figures() == direct

    sealed = weeks_seal(now=NOW)
    rows = SealedLineSums.objects.count()
    assert sealed > 0 and _figures() == direct

    assert weeks_seal(now=NOW) == 0 and SealedLineSums.objects.count() == rows
    assert _figures() == direct


def test_a_deal_won_reopened_and_won_again_later_moves_only_what_the_lines_say(history):
    # A deal still open that the last snapshot forecast for this week (over by the database's clock, not
    # sealed): won this week, reopened, won again; the scored weeks read sealed rows throughout.
    opp = next(opp for opp in Opportunity.objects.filter(
        is_open=True, id__in=SnapshotLine.objects.filter(snapshot__week=dt.date(2026, 3, 9),
                                                         close_week=dt.date(2026, 3, 16)).values("opportunity_id"),
    ).order_by("id"))
    before = _figures()

    _move(opp, "won", at("2026-03-17T10:00:00+08:00"))
    won = _figures()
    assert won == _direct()
    assert won != before  # its line for this week (over by the database's clock) counts as won in calibration

    _move(opp, "negotiation", at("2026-03-17T11:00:00+08:00"))
    assert _figures() == _direct()
    _move(opp, "won", at("2026-03-18T09:00:00+08:00"))
    assert _figures() == _direct()
    assert _forecast_sums(_figures()) == _forecast_sums(before)  # forecasts are frozen; only actuals moved


def test_an_amount_change_on_a_deal_leaves_the_frozen_forecasts_as_they_were(history):
    line = SnapshotLine.objects.filter(close_week__lt=dt.date(2026, 3, 9)).order_by("id").first()
    opp = Opportunity.objects.get(pk=line.opportunity_id)
    before = _figures()

    RecordChange.objects.create(record_type=RecordKind.OPPORTUNITY, record_id=opp.pk, account_id=opp.account_id,
                                field="amount", old_value=str(opp.amount), new_value="987654.00", actor_label="t",
                                at=at("2026-03-17T10:00:00+08:00"), via="t")
    Opportunity.objects.filter(pk=opp.pk).update(amount=Decimal("987654.00"))

    after = _figures()
    assert after == _direct()
    assert _forecast_sums(after) == _forecast_sums(before)
