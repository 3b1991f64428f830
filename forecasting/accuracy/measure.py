"""The accuracy page's figures for a scope, a lead and weeks or months: every method scored over the closed
periods that have a snapshot at that lead (see the package docstring for the methods)."""
import datetime as dt
from dataclasses import dataclass

from django.db import connection

from ..weeks import monday_of, month_start, next_month, tenant_tz, week_start
from .cache import cached
from .scores import PAGE_METHODS, Score
from .snapshot_sums import (brier_scores, commit_adjustments, forecast_sums, in_week_weeks, residuals,
                            scored_cells, sealed_pairs, sealed_sums)
from .won import won_by_day


@dataclass
class Accuracy:
    lead: int
    monthly: bool
    scores: dict[str, Score]
    adjusted: Score | None
    brier_credit: float | None
    brier_stage: float | None
    lines_scored: int
    brier_stage_fitted: float | None = None


def _periods(first_week: dt.date, current_week: dt.date, monthly: bool) -> list[tuple[dt.date, dt.date]]:
    """Closed periods [start, end) from the first snapshot's week up to this week."""
    periods = []
    if monthly:
        start = month_start(first_week)
        while next_month(start) <= current_week:
            periods.append((start, next_month(start)))
            start = next_month(start)
    else:
        start = first_week
        while start + dt.timedelta(weeks=1) <= current_week:
            periods.append((start, start + dt.timedelta(weeks=1)))
            start += dt.timedelta(weeks=1)
    return periods


def _won_read(cursor, scope: str, scope_id, scored) -> dict[dt.date, float]:
    """The amount won per day on the days the scored periods read: each period's own days, and the run
    rate's four weeks before each snapshot."""
    if not scored:
        return {}
    since = min(min(snap_week - dt.timedelta(weeks=4), start) for snap_week, start, _ in scored)
    until = max(max(snap_week, end) for snap_week, _, end in scored)
    return won_by_day(cursor, scope, scope_id, since=since, until=until)


def accuracy_measure(*, lead: int, now: dt.datetime, scope: str = "company", scope_id=None,
                     monthly: bool = False) -> Accuracy:
    current_week = week_start(now, tenant_tz())
    return cached("accuracy-in-week", (lead, current_week, scope, scope_id, monthly),
                  lambda: accuracy_compute(lead=lead, now=now, scope=scope, scope_id=scope_id, monthly=monthly))


def accuracy_compute(*, lead: int, now: dt.datetime, scope: str = "company", scope_id=None,
                     monthly: bool = False) -> Accuracy:
    tz = tenant_tz()
    current_week = week_start(now, tz)
    with connection.cursor() as cursor:
        cursor.execute("SELECT week, id FROM forecasting_forecastsnapshot ORDER BY week")
        snapshots = dict(cursor.fetchall())
        scores = {m: Score(m) for m in PAGE_METHODS}
        if not snapshots:
            return Accuracy(lead, monthly, scores, None, None, None, 0)
        adjustments = commit_adjustments(cursor, scope, scope_id) if not monthly else {}
        adjusted = Score("commit_adjusted") if adjustments else None
        scored = []
        for start, end in _periods(min(snapshots), current_week, monthly):
            snap_week = monday_of(start) - dt.timedelta(weeks=lead)
            if snap_week in snapshots:
                scored.append((snap_week, start, end))
        won = _won_read(cursor, scope, scope_id, scored)
        sealed_cells, open_cells = scored_cells(scored, monthly, sealed_pairs(cursor))
        sealed_rows = sealed_sums(cursor, scope, scope_id, monthly, sealed_cells)
        sums = forecast_sums(cursor, scope, scope_id, monthly, open_cells, sealed_rows)
        residual_sums = residuals(cursor, scope, scope_id, scored)
        in_week = in_week_weeks(cursor)
        for snap_week, start, end in scored:
            actual = sum(v for day, v in won.items() if start <= day < end)
            credit, stage, commit, fitted = sums.get((snap_week, start), (0.0, 0.0, 0.0, None))
            residual = residual_sums.get((snap_week, start), 0.0)
            credit += residual
            if snap_week in in_week:
                scores["stage_fitted"].add(start, (fitted or 0.0) + residual, actual)
            trailing = sum(v for day, v in won.items() if snap_week - dt.timedelta(weeks=4) <= day < snap_week) / 4
            weeks_in = (end - start).days / 7
            scores["credit"].add(start, credit, actual)
            scores["stage"].add(start, stage, actual)
            scores["commit"].add(start, commit, actual)
            scores["runrate"].add(start, trailing * weeks_in, actual)
            if adjusted is not None:
                adjusted.add(start, commit + adjustments.get(start, 0.0), actual)
        brier_credit, brier_stage, count, brier_fitted = brier_scores(cursor, open_cells, sealed_rows, scope,
                                                                      scope_id, monthly)
    return Accuracy(lead, monthly, scores, adjusted, brier_credit, brier_stage, count, brier_fitted)
