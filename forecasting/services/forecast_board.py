"""The live forecast board: coming weeks × credit-weighted amount, committed and its 0.7 line.

Weights come from the curve the latest snapshot froze (refitted weekly, so a board request
never scans the tenant's closed history); with no snapshot yet, from a fit made now.
"""
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Case, ExpressionWrapper, F, FloatField, Q, Sum, Value, When
from django.db.models.functions import Cast, Coalesce, Greatest, TruncWeek

from ..models_forecast import CommitAdjustment, ForecastSnapshot
from .forecast_weights import BAND_EDGES, Band, curve_fit, curve_from_json

WEEKS_AHEAD = 12
WARNING_SHARE = Decimal("0.7")


def curve_current(now: dt.datetime) -> list[Band]:
    latest = ForecastSnapshot.objects.order_by("-week").values_list("curve", flat=True).first()
    return curve_from_json(latest) if latest else curve_fit(before=now)


def weight_expression(curve: list[Band]):
    bounds = [0, *BAND_EDGES, None]
    whens = []
    for band in curve:
        low, high = bounds[band.index], bounds[band.index + 1]
        condition = Q(credit_score__gte=low) if high is None else Q(credit_score__lt=high)
        whens.append(When(condition, then=Value(band.weight)))
    return Case(*whens, default=Value(curve[0].weight), output_field=FloatField())


def with_forecast(opportunities, *, curve: list[Band], first_week: dt.date):
    """Annotate open opportunities with their bucket week, weights and current commit category."""
    return opportunities.filter(is_open=True, expected_close__isnull=False).annotate(
        week=TruncWeek(Greatest("expected_close", Value(first_week))),
        credit_weight=weight_expression(curve),
        stage_weight=ExpressionWrapper(Cast("stage__probability", FloatField()) / 100.0, output_field=FloatField()),
        amount_float=Cast("amount", FloatField()),
        commit_category=F("commit_current__category"),
        commit_period=F("commit_current__period"),
    )


@dataclass
class WeekBar:
    week: dt.date
    weighted: Decimal
    stage_weighted: Decimal
    committed: Decimal
    adjusted: Decimal | None
    count: int

    @property
    def committed_effective(self) -> Decimal:
        return self.committed if self.adjusted is None else self.adjusted

    @property
    def warning(self) -> Decimal:
        return (self.committed_effective * WARNING_SHARE).quantize(Decimal("0.01"))

    @property
    def below(self) -> bool:
        return self.committed_effective > 0 and self.weighted < self.warning


def board_weeks(opportunities, *, now: dt.datetime, first_week: dt.date, curve: list[Band], team_ids=None) -> list[WeekBar]:
    """One bar per coming week; deals past their close date count in this week (still open, still due)."""
    last_week = first_week + dt.timedelta(weeks=WEEKS_AHEAD)
    rows = (
        with_forecast(opportunities, curve=curve, first_week=first_week)
        .filter(expected_close__lt=last_week)
        .order_by()
        .values("week")
        .annotate(
            weighted=Coalesce(Sum(F("amount_float") * F("credit_weight")), 0.0, output_field=FloatField()),
            stage_weighted=Coalesce(Sum(F("amount_float") * F("stage_weight")), 0.0, output_field=FloatField()),
            committed=Coalesce(Sum("amount", filter=Q(commit_category="commit", commit_period=F("week"))), Decimal(0)),
            count=Sum(Value(1)),
        )
    )
    found = {_as_date(r["week"]): r for r in rows}
    adjustments = adjustment_deltas(first_week=first_week, last_week=last_week, team_ids=team_ids)
    bars = []
    for offset in range(WEEKS_AHEAD):
        week = first_week + dt.timedelta(weeks=offset)
        row = found.get(week, {})
        committed = Decimal(row.get("committed") or 0)
        delta = adjustments.get(week)
        bars.append(WeekBar(
            week=week, weighted=_money(row.get("weighted")), stage_weighted=_money(row.get("stage_weighted")),
            committed=committed, adjusted=None if delta is None else committed + delta, count=row.get("count") or 0,
        ))
    return bars


def adjustment_deltas(*, first_week, last_week, team_ids) -> dict[dt.date, Decimal]:
    """Week → Σ over teams of (the manager's committed figure − the reps' roll-up it replaced)."""
    adjustments = CommitAdjustment.objects.filter(period__gte=first_week, period__lt=last_week)
    if team_ids is not None:
        adjustments = adjustments.filter(team_id__in=team_ids)
    latest = {}
    for adjustment in adjustments.order_by("team_id", "period", "at", "id"):
        latest[(adjustment.team_id, adjustment.period)] = adjustment
    deltas: dict[dt.date, Decimal] = {}
    for (_, period), adjustment in latest.items():
        deltas[period] = deltas.get(period, Decimal(0)) + adjustment.amount - adjustment.rollup
    return deltas


def week_opportunities(opportunities, *, week: dt.date, first_week: dt.date, curve: list[Band]):
    """The open opportunities behind one bar, biggest weighted first."""
    return (
        with_forecast(opportunities, curve=curve, first_week=first_week)
        .filter(week=week)
        .select_related("owner__member", "stage", "account")
        .annotate(weighted=ExpressionWrapper(F("amount_float") * F("credit_weight"), output_field=FloatField()))
        .order_by("-weighted", "id")
    )


def _as_date(value) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def _money(value) -> Decimal:
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))
