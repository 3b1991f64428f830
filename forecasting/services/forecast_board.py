"""The live forecast board: coming weeks × the amount expected to be won in each, committed and its 0.7 line.

A deal expected to close in week W counts in W at W's lead from this week (an overdue deal in this
week, lead 0), with the in-week weight of its credit band at that lead (forecast_weights). Weights
come from the latest snapshot's fit (refitted weekly, so a board request never scans the history);
with no snapshot frozen with in-week weights yet, from a fit made now. Beside the pipeline, the
residual that snapshot froze for the scope: the amount won lately per week by deals not yet in the
pipeline at that lead.
"""
import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import (
    Case, Count, ExpressionWrapper, F, FilteredRelation, FloatField, Func, IntegerField, OuterRef, Q, Subquery, Sum, Value,
    When,
)
from django.db.models.lookups import Exact
from django.db.models.functions import Cast, Coalesce, Greatest, TruncWeek

from followups.models import Stage

from ..models_forecast import CommitAdjustment, CommitCategory, ForecastSnapshot, SnapshotResidual
from ..weeks import tenant_tz, week_start
from .forecast_weights import BAND_EDGES, MAX_LEAD, Band, WeekFit, in_week_fit, week_fit_from_json

WEEKS_AHEAD = MAX_LEAD + 1
WARNING_SHARE = Decimal("0.7")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class BoardFit:
    fit: WeekFit
    snapshot_id: int | None  # the snapshot whose fit and residual the board reads


def fit_current(now: dt.datetime) -> BoardFit:
    latest = ForecastSnapshot.objects.filter(weights__isnull=False).order_by("-week").values_list("pk", "weights").first()
    if latest:
        return BoardFit(week_fit_from_json(latest[1]), latest[0])
    return BoardFit(in_week_fit(week=week_start(now, tenant_tz()), before=now), None)


def residual_by_lead(board_fit: BoardFit, *, level: str, keys: list | None) -> dict[int, Decimal]:
    """Lead → the residual the snapshot froze for the scope (summed over `keys`; company: keys None)."""
    if board_fit.snapshot_id is None:
        return {}
    rows = SnapshotResidual.objects.filter(snapshot_id=board_fit.snapshot_id, level=level)
    rows = rows.filter(key__isnull=True) if keys is None else rows.filter(key__in=keys)
    found: dict[int, Decimal] = {}
    for lead, amount in rows.values_list("lead", "amount"):
        found[lead] = found.get(lead, Decimal(0)) + amount
    return found


def band_expression():
    whens = [When(credit_score__lt=edge, then=Value(index)) for index, edge in enumerate(BAND_EDGES)]
    return Case(*whens, default=Value(len(BAND_EDGES)), output_field=IntegerField())


def weight_expression(curve: list[Band]):
    bounds = [0, *BAND_EDGES, None]
    whens = []
    for band in curve:
        low, high = bounds[band.index], bounds[band.index + 1]
        condition = Q(credit_score__gte=low) if high is None else Q(credit_score__lt=high)
        whens.append(When(condition, then=Value(band.weight)))
    return Case(*whens, default=Value(curve[0].weight), output_field=FloatField())


def with_forecast(opportunities, *, first_week: dt.date, curve: list[Band] | None = None):
    """Annotate open opportunities with their bucket week, band, stage weight and current commit category
    (and the credit weight of `curve`, for rows all at one lead)."""
    annotated = opportunities.filter(is_open=True, expected_close__isnull=False).annotate(
        week=TruncWeek(Greatest("expected_close", Value(first_week))),
        band=band_expression(),
        stage_weight=ExpressionWrapper(Cast("stage__probability", FloatField()) / 100.0, output_field=FloatField()),
        amount_float=Cast("amount", FloatField()),
        commit_category=F("commit_current__category"),
        commit_period=F("commit_current__period"),
    )
    return annotated if curve is None else annotated.annotate(credit_weight=weight_expression(curve))


@dataclass
class WeekBar:
    week: dt.date
    weighted: Decimal
    stage_weighted: Decimal
    committed: Decimal
    adjusted: Decimal | None
    count: int
    residual: Decimal = Decimal(0)

    @property
    def forecast(self) -> Decimal:
        """Pipeline (credit-weighted) plus the residual: the amount expected to be won in the week."""
        return self.weighted + self.residual

    @property
    def committed_effective(self) -> Decimal:
        return self.committed if self.adjusted is None else self.adjusted

    @property
    def warning(self) -> Decimal:
        return (self.committed_effective * WARNING_SHARE).quantize(Decimal("0.01"))

    @property
    def below(self) -> bool:
        return self.committed_effective > 0 and self.weighted < self.warning


def board_weeks(opportunities, *, now: dt.datetime, first_week: dt.date, board_fit: BoardFit, team_ids=None,
                residual: dict[int, Decimal] | None = None) -> list[WeekBar]:
    """One bar per coming week; deals past their close date count in this week (still open, still due).
    Credit-weighted = Σ amount × the in-week weight of the deal's band at the week's lead; the warning
    compares that pipeline figure (not the residual) with 0.7 × committed."""
    last_week = first_week + dt.timedelta(weeks=WEEKS_AHEAD)
    found: dict[int, dict] = {}
    for lead, band, _, probability, amount, committed, count in board_cells(opportunities, first_week=first_week):
        cell = found.setdefault(lead, {"weighted": Decimal(0), "stage_weighted": Decimal(0), "committed": Decimal(0),
                                       "count": 0})
        cell["weighted"] += amount * _exact(board_fit.fit.at(lead).bands[band].weight)
        cell["stage_weighted"] += amount * probability / 100
        cell["committed"] += committed
        cell["count"] += count
    adjustments = adjustment_deltas(first_week=first_week, last_week=last_week, team_ids=team_ids)
    residual = residual or {}
    bars = []
    for offset in range(WEEKS_AHEAD):
        week = first_week + dt.timedelta(weeks=offset)
        row = found.get(offset, {})
        committed = row.get("committed", Decimal(0))
        delta = adjustments.get(week)
        bars.append(WeekBar(
            week=week, weighted=_money(row.get("weighted")), stage_weighted=_money(row.get("stage_weighted")),
            committed=committed, adjusted=None if delta is None else committed + delta, count=row.get("count", 0),
            residual=_money(residual.get(min(offset, MAX_LEAD))),
        ))
    return bars


class _DaysAfter(Func):
    """`later` − `earlier` in days, both dates (PostgreSQL's date − date is an integer)."""

    arg_joiner = " - "
    template = "(%(expressions)s)"
    output_field = IntegerField()


class _Band(Func):
    """The credit band of `credit_score`: how many of BAND_EDGES it reaches (band_expression, on integers)."""

    template = f"width_bucket(%(expressions)s, ARRAY{BAND_EDGES})"
    output_field = IntegerField()


class _PerGroup(Subquery):
    """A subquery on a group key: PostgreSQL runs it once per group, and in GROUP BY it would run per row."""

    def get_group_by_cols(self):
        return []


def board_cells(opportunities, *, first_week: dt.date):
    """(lead, band, stage, its probability, Σ amount, Σ amount committed for the deal's bar, deals) of the open deals
    of the board's weeks; lead = the deal's bar (0 = this week, where overdue deals count too).

    One narrow pass over the open deals (index forecasting_opp_board_cells), grouped on small integers, the
    amounts summed as numeric (exact, no cast per row); the commit rows joined only where category is commit.
    """
    last_week = first_week + dt.timedelta(weeks=WEEKS_AHEAD)
    lead = Greatest(_DaysAfter(F("expected_close"), Value(first_week)), Value(0)) / Value(7)
    commit_lead_days = _DaysAfter(F("commit__period"), Value(first_week))
    commit = Q(commit_current__category=CommitCategory.COMMIT, commit_current__period__gte=first_week,
               commit_current__period__lt=last_week)
    return (
        opportunities.filter(is_open=True, expected_close__lt=last_week)
        .alias(commit=FilteredRelation("commit_current", condition=commit))
        .annotate(lead=lead, band=_Band("credit_score"))
        .order_by()
        .values_list("lead", "band", "stage_id")
        .annotate(
            probability=_PerGroup(Stage.objects.filter(pk=OuterRef("stage_id")).order_by().values("probability")),
            amount_sum=Sum("amount"),
            committed=Coalesce(Sum("amount", filter=Exact(commit_lead_days, F("lead") * 7)), Decimal(0)),
            count=Count("*"),
        )
    )


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


def week_opportunities(opportunities, *, week: dt.date, first_week: dt.date, board_fit: BoardFit):
    """The open opportunities behind one bar, biggest weighted first, each at the week's lead."""
    curve = board_fit.fit.at((week - first_week).days // 7).bands
    return (
        with_forecast(opportunities, first_week=first_week, curve=curve)
        .filter(week=week)
        .select_related("owner__member", "stage", "account")
        .annotate(weighted=ExpressionWrapper(F("amount_float") * F("credit_weight"), output_field=FloatField()))
        .order_by("-weighted", "id")
    )


def _exact(weight: float) -> Decimal:
    """The weight as the decimal it was written as (weights are rounded to 6 places), so bars sum exactly."""
    return Decimal(repr(weight))


def _money(value: Decimal | None) -> Decimal:
    """Rounded to the cent half up, as the frozen roll-ups (PostgreSQL's round) round the same sums."""
    return (value or Decimal(0)).quantize(CENT, ROUND_HALF_UP)
