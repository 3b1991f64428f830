"""How right the frozen forecasts were: WAPE, bias, Brier score and calibration.

For a period P (a closed week, or a closed month) and a lead time of L weeks, the forecast is
read from the snapshot frozen L weeks before P began (for a month: before its first Monday)
— summing its lines whose close date falls in P — and compared with the amount actually won
in P (deals whose move to a won stage was recorded in P). Methods on the same lines:

- credit: Σ amount × the band's in-week weight at the line's lead that the snapshot froze (P(won within
  the forecast week | band, lead), rolling origin) + the residual the snapshot froze for the scope
  (the amount won lately per week by deals not yet in the pipeline at that lead);
- stage: Σ amount × Stage.probability as typed (what peers do);
- stage_fitted: the credit method with the stage as feature (P(won within the week | stage, lead),
  fitted and shrunk the same way, the same residual): "how much of credit's edge is evidence, how
  much is fitting to the tenant's own history" (the page only; SPEC §8's command prints the four);
- commit: Σ amount of lines the rep had in "commit" for that period;
- runrate: the won amount of the 4 weeks before the snapshot, per week (× weeks in a month).

Snapshots frozen before in-week weights (lines without `lead`) are read as they were: eventual-win
credit weights, no residual, no fitted-stage figure (stage_fitted leaves such periods out).

Lines whose forecast week is over are rolled up once that week ends (forecasting/sealing.py, `SealedLineSums`):
the forecast sums, Brier terms and calibration counts are read from the sealed rows where the (snapshot, week)
is sealed, and from the lines elsewhere (weeks over but not sealed yet, snapshots before in-week weights) — the
same exact sums either way, so no figure depends on whether sealing ran.

WAPE = Σ|F − A| / ΣA and bias = Σ(F − A) / ΣA over all periods (undefined when nothing was won).
Periods without a snapshot at that lead are left out and not counted.
"""
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import connection

from .sealing import BRIER_COLUMNS, BRIER_SUMS_SQL
from .services.forecast_weights import BAND_EDGES, DEFAULT_CURVE, IN_WEEK_SHARE, MAX_LEAD
from .weeks import monday_of, month_start, next_month, tenant_tz, week_start

METHODS = ("credit", "stage", "commit", "runrate")  # SPEC §8: `forecast_accuracy` prints these
PAGE_METHODS = ("credit", "stage", "stage_fitted", "commit", "runrate")
LEADS = (1, 4, 8)


@dataclass
class Score:
    method: str
    periods: int = 0
    abs_error: float = 0.0
    error: float = 0.0
    actual: float = 0.0
    rows: list = field(default_factory=list)  # (period, forecast, actual)

    def add(self, period, forecast: float, actual: float):
        self.periods += 1
        self.abs_error += abs(forecast - actual)
        self.error += forecast - actual
        self.actual += actual
        self.rows.append((period, forecast, actual))

    @property
    def wape(self) -> float | None:
        return self.abs_error / self.actual if self.actual else None

    @property
    def accuracy(self) -> float | None:
        return None if self.wape is None else 1 - self.wape

    @property
    def bias(self) -> float | None:
        return self.error / self.actual if self.actual else None

    def line(self, schema: str, lead: int) -> str:
        wape = "n/a" if self.wape is None else f"{self.wape * 100:.1f}%"
        bias = "n/a" if self.bias is None else f"{self.bias * 100:+.1f}%"
        return f"forecast accuracy {schema} method={self.method} lead={lead}w: periods={self.periods} wape={wape} bias={bias}"


def wape_bias(pairs: list[tuple[float, float]]) -> tuple[float | None, float | None]:
    """(forecast, actual) pairs → (WAPE, bias); None when nothing was won."""
    actual = sum(a for _, a in pairs)
    if not actual:
        return None, None
    return sum(abs(f - a) for f, a in pairs) / actual, sum(f - a for f, a in pairs) / actual


def brier(pairs: list[tuple[float, int]]) -> float | None:
    """(probability, outcome 0/1) pairs → mean squared error; None without pairs."""
    return sum((p - o) ** 2 for p, o in pairs) / len(pairs) if pairs else None


def _scope_sql(scope: str) -> str:
    return {"company": "TRUE", "team": "team_id = %(scope_id)s", "region": "region_id = %(scope_id)s"}[scope]


def _won_by_day(cursor, scope: str, scope_id) -> dict[dt.date, float]:
    """Amount won per tenant-local day, for the scope (owner's team/region today)."""
    cursor.execute(
        f"""
        WITH won AS (
            SELECT DISTINCT ON (sc.opportunity_id) sc.opportunity_id, sc.at FROM followups_stagechange sc
            JOIN followups_stage s ON s.id = sc.to_stage_id AND s.outcome = 'won'
            ORDER BY sc.opportunity_id, sc.at DESC
        ), owners AS (
            SELECT o.id, o.amount, m.team_id, COALESCE(t.region_id, m.region_id) AS region_id
            FROM followups_opportunity o JOIN followups_stage s ON s.id = o.stage_id AND s.outcome = 'won'
            LEFT JOIN org_member m ON m.user_id = o.owner_id LEFT JOIN org_team t ON t.id = m.team_id
        )
        SELECT (w.at AT TIME ZONE %(tz)s)::date, SUM(o.amount) FROM won w JOIN owners o ON o.id = w.opportunity_id
        WHERE {_scope_sql(scope)} GROUP BY 1
        """,
        {"tz": str(tenant_tz()), "scope_id": scope_id},
    )
    return {day: float(total) for day, total in cursor.fetchall()}


def _cells(used, monthly: bool, sealed: set) -> tuple[list, list]:
    """The scored (snapshot week, period start, period end) pairs as cells (snapshot week, close week, period
    start, period end): a week's one close week, or the close weeks overlapping a month. Every line of a cell
    has the close week as its forecast week (it is after the snapshot's week), so a cell is sealed when
    (snapshot week, close week) is; → (sealed cells, cells read from the lines)."""
    sealed_cells, open_cells = [], []
    for snap_week, start, end in used:
        close_week = monday_of(start) if monthly else start
        while close_week < end:
            cell = (snap_week, close_week, start, end)
            (sealed_cells if (snap_week, close_week) in sealed else open_cells).append(cell)
            close_week += dt.timedelta(weeks=1)
    return sealed_cells, open_cells


def _sealed_pairs(cursor) -> set[tuple[dt.date, dt.date]]:
    """(snapshot week, forecast week) pairs sealed: their lines are summed in SealedLineSums."""
    cursor.execute("SELECT s.week, sw.week FROM forecasting_sealedweek sw "
                   "JOIN forecasting_forecastsnapshot s ON s.id = sw.snapshot_id")
    return set(cursor.fetchall())


def _cells_params(cells) -> dict:
    return {"weeks": [c[0] for c in cells], "closes": [c[1] for c in cells], "starts": [c[2] for c in cells],
            "finishes": [c[3] for c in cells]}


def _line_scope_sql(scope: str, alias: str) -> str:
    return _scope_sql(scope).replace("team_id", f"{alias}.team_id").replace("region_id", f"{alias}.region_id")


# Per scored (snapshot, period): the forecast sums (credit, stage, commit, fitted stage) and the Brier terms.
SCORED_SUMS = ("credit_amount", "stage_amount", "commit_amount", "fit_amount")


def _sealed_sums(cursor, scope: str, scope_id, monthly: bool, cells) -> dict[tuple[dt.date, dt.date], list]:
    """(snapshot week, period start) → SCORED_SUMS + BRIER_COLUMNS of the sealed cells, from SealedLineSums."""
    if not cells:
        return {}
    month_sql = "AND r.close_month = p.start" if monthly else ""
    cursor.execute(
        f"""
        SELECT p.week, p.start, {", ".join(f"SUM(r.{c})" for c in SCORED_SUMS + BRIER_COLUMNS)}
        FROM unnest(%(weeks)s::date[], %(closes)s::date[], %(starts)s::date[]) AS p(week, close, start)
        JOIN forecasting_forecastsnapshot s ON s.week = p.week
        JOIN forecasting_sealedlinesums r ON r.snapshot_id = s.id AND r.close_week = p.close {month_sql}
        WHERE {_line_scope_sql(scope, "r")}
        GROUP BY 1, 2
        """,
        {"scope_id": scope_id, **_cells_params(cells)},
    )
    return {(week, start): list(values) for week, start, *values in cursor.fetchall()}


def _snapshot_sums(cursor, scope: str, scope_id, monthly: bool, cells) -> dict[tuple[dt.date, dt.date], list]:
    """(snapshot week, period start) → SCORED_SUMS of the cells not sealed, from their lines (each cell
    through the (snapshot, close week) index)."""
    if not cells:
        return {}
    month_sql = "AND l.close_date >= p.start AND l.close_date < p.finish" if monthly else ""
    cursor.execute(
        f"""
        SELECT p.week, p.start, SUM(l.amount * l.credit_weight::numeric), SUM(l.amount * l.stage_weight::numeric),
            COALESCE(SUM(l.amount) FILTER (WHERE l.category = 'commit'), 0),
            SUM(l.amount * l.stage_fit_weight::numeric)
        FROM unnest(%(weeks)s::date[], %(closes)s::date[], %(starts)s::date[], %(finishes)s::date[])
            AS p(week, close, start, finish)
        JOIN forecasting_forecastsnapshot s ON s.week = p.week
        JOIN forecasting_snapshotline l ON l.snapshot_id = s.id AND l.close_week = p.close {month_sql}
        WHERE {_line_scope_sql(scope, "l")}
        GROUP BY 1, 2
        """,
        {"scope_id": scope_id, **_cells_params(cells)},
    )
    return {(week, start): list(values) for week, start, *values in cursor.fetchall()}


def _add(totals: list | None, values: list) -> list:
    """Column-wise sum of exact figures, None (no line had it) counting as nothing."""
    if totals is None:
        return list(values)
    return [b if a is None else a if b is None else a + b for a, b in zip(totals, values)]


def _forecast_sums(cursor, scope, scope_id, monthly, sealed_cells, open_cells, sealed_rows):
    """(snapshot week, period start) → (credit, stage, commit, fitted stage or None): the sealed cells' sums
    plus the other cells' (exact numerics added, then floats: the same figure however the cells split)."""
    totals: dict = {}
    for key, values in sealed_rows.items():
        totals[key] = _add(totals.get(key), values[:len(SCORED_SUMS)])
    for key, values in _snapshot_sums(cursor, scope, scope_id, monthly, open_cells).items():
        totals[key] = _add(totals.get(key), values)
    return {key: tuple(None if v is None else float(v) for v in values) for key, values in totals.items()}


def _residuals(cursor, scope: str, scope_id, used) -> dict[tuple[dt.date, dt.date], float]:
    """(snapshot week, period start) → the residual those snapshots froze for the scope over the period:
    per day of the period, the residual at that day's week's lead / 7. Only snapshots frozen with in-week
    weights have any; the others read 0 (as they were)."""
    if not used:
        return {}
    key_sql = {"company": "r.key IS NULL", "team": "r.key = %(scope_id)s", "region": "r.key = %(scope_id)s"}[scope]
    cursor.execute(
        f"""
        SELECT s.week, r.lead, r.amount FROM forecasting_snapshotresidual r
        JOIN forecasting_forecastsnapshot s ON s.id = r.snapshot_id
        WHERE s.week = ANY(%(weeks)s::date[]) AND r.level = %(level)s AND {key_sql}
        """,
        {"weeks": sorted({w for w, _, _ in used}), "level": scope, "scope_id": scope_id},
    )
    by_lead: dict[dt.date, dict[int, float]] = {}
    for week, lead, amount in cursor.fetchall():
        by_lead.setdefault(week, {})[lead] = float(amount)
    found = {}
    for snap_week, start, end in used:
        leads = by_lead.get(snap_week, {})
        total = 0.0
        day = start
        while day < end:
            lead = min(max((monday_of(day) - snap_week).days // 7, 0), MAX_LEAD)
            total += leads.get(lead, 0.0) / 7
            day += dt.timedelta(days=1)
        found[(snap_week, start)] = total
    return found


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


CACHE_SECONDS = 600


def data_version() -> str | None:
    """What every accuracy figure depends on, read from five primary-key indexes: the latest frozen
    snapshot (its id and the moment it was frozen), the latest stage change (outcomes, won days),
    record change (amounts), manager adjustment and membership period (a rep who moves team takes
    their won deals along). All five are append-only, so any change that could move a figure moves
    this string; None without snapshots (nothing to measure)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT (SELECT id || '@' || extract(epoch FROM created_at) FROM forecasting_forecastsnapshot
                    ORDER BY id DESC LIMIT 1),
                (SELECT MAX(id) FROM followups_stagechange), (SELECT MAX(id) FROM followups_recordchange),
                (SELECT MAX(id) FROM forecasting_commitadjustment), (SELECT MAX(id) FROM org_membershipperiod)
            """
        )
        snapshot, *rest = cursor.fetchone()
    return None if snapshot is None else ":".join(str(x) for x in (snapshot, *rest))


def _cached(name: str, key_parts: tuple, compute):
    """`compute()`, kept in the shared cache under the data version (a page re-read while nothing
    changed costs four index lookups; the first read after any change computes again)."""
    from salesflow.memo import shared_get, shared_set

    version = data_version()
    if version is None:
        return compute()
    key = f"forecast:{name}:{version}:" + ":".join(str(x) for x in key_parts)
    found = shared_get(key)
    if found is None:
        found = compute()
        shared_set(key, found, CACHE_SECONDS)
    return found


def accuracy_measure(*, lead: int, now: dt.datetime, scope: str = "company", scope_id=None,
                     monthly: bool = False) -> Accuracy:
    current_week = week_start(now, tenant_tz())
    return _cached("accuracy-in-week", (lead, current_week, scope, scope_id, monthly),
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
        won = _won_by_day(cursor, scope, scope_id)
        adjustments = _adjustments(cursor, scope, scope_id) if not monthly else {}
        adjusted = Score("commit_adjusted") if adjustments else None
        scored = []
        for start, end in _periods(min(snapshots), current_week, monthly):
            snap_week = monday_of(start) - dt.timedelta(weeks=lead)
            if snap_week in snapshots:
                scored.append((snap_week, start, end))
        sealed_cells, open_cells = _cells(scored, monthly, _sealed_pairs(cursor))
        sealed_rows = _sealed_sums(cursor, scope, scope_id, monthly, sealed_cells)
        sums = _forecast_sums(cursor, scope, scope_id, monthly, sealed_cells, open_cells, sealed_rows)
        residuals = _residuals(cursor, scope, scope_id, scored)
        in_week = _in_week_weeks(cursor)
        for snap_week, start, end in scored:
            actual = sum(v for day, v in won.items() if start <= day < end)
            credit, stage, commit, fitted = sums.get((snap_week, start), (0.0, 0.0, 0.0, None))
            residual = residuals.get((snap_week, start), 0.0)
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
        brier_credit, brier_stage, count, brier_fitted = _brier(cursor, open_cells, sealed_rows, scope, scope_id,
                                                                monthly)
    return Accuracy(lead, monthly, scores, adjusted, brier_credit, brier_stage, count, brier_fitted)


def _in_week_weeks(cursor) -> set[dt.date]:
    """Weeks of the snapshots frozen with in-week weights (the fitted stage method exists for them)."""
    cursor.execute("SELECT week FROM forecasting_forecastsnapshot WHERE weights IS NOT NULL")
    return {row[0] for row in cursor.fetchall()}


def _adjustments(cursor, scope: str, scope_id) -> dict[dt.date, float]:
    """Week → Σ (manager's figure − the reps' roll-up then), latest adjustment per team and week."""
    cursor.execute(
        f"""
        SELECT period, SUM(amount - rollup) FROM (
            SELECT DISTINCT ON (a.team_id, a.period) a.period, a.amount, a.rollup, a.team_id, t.region_id
            FROM forecasting_commitadjustment a JOIN org_team t ON t.id = a.team_id
            ORDER BY a.team_id, a.period, a.at DESC, a.id DESC
        ) latest WHERE {_scope_sql(scope)} GROUP BY period
        """,
        {"scope_id": scope_id},
    )
    return {period: float(delta) for period, delta in cursor.fetchall()}


def _brier(cursor, open_cells, sealed_rows, scope, scope_id, monthly) -> tuple[float | None, float | None, int,
                                                                            float | None]:
    """Per opportunity line of the snapshots scored: (weight − outcome)², the outcome being the event the
    weight forecast: won within the line's week (in-week lines, `lead` set; the week is over), or won
    eventually for lines frozen before in-week weights (deals closed since). The sealed cells' terms from
    SealedLineSums, the others' from their lines; Σ(w − o)² = Σw² − 2·Σw·o + Σo (o is 0 or 1)."""
    terms = None
    for values in sealed_rows.values():
        terms = _add(terms, values[len(SCORED_SUMS):])
    if open_cells:
        month_sql = "AND l.close_date >= p.start AND l.close_date < p.finish" if monthly else ""
        cursor.execute(
            f"""
            SELECT {BRIER_SUMS_SQL}
            FROM unnest(%(weeks)s::date[], %(closes)s::date[], %(starts)s::date[], %(finishes)s::date[])
                AS p(week, close, start, finish)
            JOIN forecasting_forecastsnapshot s ON s.week = p.week
            JOIN forecasting_snapshotline l ON l.snapshot_id = s.id AND l.close_week = p.close {month_sql}
            JOIN LATERAL ({LINE_OUTCOME_SQL}) w ON TRUE
            WHERE {_line_scope_sql(scope, "l")}
            """,
            {"scope_id": scope_id, "tz": str(tenant_tz()), **_cells_params(open_cells)},
        )
        terms = _add(terms, cursor.fetchone())
    if not terms or not terms[0]:
        return None, None, 0, None
    lines, won, credit_w2, credit_w_won, stage_w2, stage_w_won, fit_lines, fit_won, fit_w2, fit_w_won = terms
    fitted = (_squared_error(fit_w2, fit_w_won, fit_won) / fit_lines) if fit_lines else None
    return (float(_squared_error(credit_w2, credit_w_won, won) / lines),
            float(_squared_error(stage_w2, stage_w_won, won) / lines), int(lines),
            None if fitted is None else float(fitted))


def _squared_error(w2, w_won, won):
    return w2 - 2 * (w_won or 0) + won


# The outcome of line l (of snapshot s) for the event its weight forecast, as `won` 0/1; no row while unknown.
# In-week lines: won within the forecast week (the close week, or the snapshot's week when the close week
# was past), known once that week is over. Lines frozen before in-week weights: won eventually, known once
# the deal closed.
LINE_OUTCOME_SQL = """
    SELECT CASE WHEN st.outcome = 'won' THEN 1 ELSE 0 END AS won FROM followups_opportunity o
    JOIN followups_stage st ON st.id = o.stage_id AND st.outcome <> 'open'
    WHERE o.id = l.opportunity_id AND l.lead IS NULL
    UNION ALL
    SELECT CASE WHEN EXISTS (
        SELECT 1 FROM followups_stagechange sc JOIN followups_stage ws ON ws.id = sc.to_stage_id AND ws.outcome = 'won'
        WHERE sc.opportunity_id = l.opportunity_id
          AND sc.at >= (GREATEST(l.close_week, s.week)::timestamp AT TIME ZONE %(tz)s)
          AND sc.at < ((GREATEST(l.close_week, s.week) + 7)::timestamp AT TIME ZONE %(tz)s)) THEN 1 ELSE 0 END
    WHERE l.lead IS NOT NULL AND l.close_week IS NOT NULL
      AND ((GREATEST(l.close_week, s.week) + 7)::timestamp AT TIME ZONE %(tz)s) <= now()
"""


@dataclass(frozen=True)
class CalibrationRow:
    band: int
    label: str
    lines: int
    predicted: float
    won_share: float | None
    default: float


def calibration(*, scope: str = "company", scope_id=None) -> list[CalibrationRow]:
    return _cached("calibration-in-week", (scope, scope_id), lambda: calibration_compute(scope=scope, scope_id=scope_id))


def calibration_compute(*, scope: str = "company", scope_id=None) -> list[CalibrationRow]:
    """Credit band at snapshot time → the weight used and the share of those lines whose event happened: won
    within the forecast week for in-week lines (weeks over), won eventually for older lines (deals closed).
    Sealed weeks from SealedLineSums; in-week lines of weeks over but not sealed yet, and the lines of
    snapshots frozen before in-week weights, from the lines."""
    from .services.forecast_weights import Band

    found: dict[int, list] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT r.band, SUM(r.lines), SUM(r.credit_w), SUM(r.won) FROM forecasting_sealedlinesums r
            WHERE {_line_scope_sql(scope, "r")} GROUP BY r.band
            """,
            {"scope_id": scope_id},
        )
        for band, *values in cursor.fetchall():
            found[band] = _add(found.get(band), values)
        for band, *values in _calibration_lines(cursor, scope, scope_id):
            found[band] = _add(found.get(band), values)
    rows = []
    for index in range(len(BAND_EDGES) + 1):
        n, weights, won = found.get(index, (0, 0, None))
        rows.append(CalibrationRow(index, Band(index, 0, 0, 0, 0).label, int(n), float(weights / n) if n else 0.0,
                                   float(won / n) if n else None, DEFAULT_CURVE[index] * IN_WEEK_SHARE))
    return rows


def _calibration_lines(cursor, scope: str, scope_id) -> list[tuple]:
    """(band, lines, Σ credit weight, lines won) of the lines with a known outcome that are not sealed: in-week
    snapshots' weeks over but not sealed (normally none), and every line of the older snapshots."""
    tz = str(tenant_tz())
    cursor.execute("SELECT date_trunc('week', now() AT TIME ZONE %s)::date", [tz])
    current_week = cursor.fetchone()[0]
    cursor.execute("SELECT id, week, weights IS NOT NULL FROM forecasting_forecastsnapshot")
    snapshots = cursor.fetchall()
    sealed = _sealed_pairs(cursor)
    cells = []  # (snapshot id, lowest close week, forecast week)
    for snapshot_id, snap_week, in_week in snapshots:
        if not in_week:
            cells.append((snapshot_id, dt.date.min, dt.date.max))
            continue
        week = snap_week
        while week < current_week:
            if (snap_week, week) not in sealed:
                cells.append((snapshot_id, dt.date.min if week == snap_week else week, week))
            week += dt.timedelta(weeks=1)
    if not cells:
        return []
    cursor.execute(
        f"""
        SELECT l.band, COUNT(*), SUM(l.credit_weight::numeric), SUM(w.won)
        FROM unnest(%(ids)s::bigint[], %(lows)s::date[], %(highs)s::date[]) AS p(id, low, high)
        JOIN forecasting_forecastsnapshot s ON s.id = p.id
        JOIN forecasting_snapshotline l ON l.snapshot_id = s.id
            AND (s.weights IS NULL OR (l.close_week >= p.low AND l.close_week <= p.high))
        JOIN LATERAL ({LINE_OUTCOME_SQL}) w ON TRUE
        WHERE {_line_scope_sql(scope, "l")} GROUP BY l.band
        """,
        {"scope_id": scope_id, "tz": tz, "ids": [c[0] for c in cells], "lows": [c[1] for c in cells],
         "highs": [c[2] for c in cells]},
    )
    return cursor.fetchall()
