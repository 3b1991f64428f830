"""The reads of what the frozen snapshots forecast, for the scored (snapshot week, period) pairs.

A (snapshot week, close week) pair whose forecast week is over and sealed is read from `SealedLineSums`;
every other one from its lines (through the (snapshot, close week) index). Both give the same exact sums
(numerics, added before any float), so no figure depends on whether sealing ran.
"""
import datetime as dt

from ..sealing import BRIER_COLUMNS, BRIER_SUMS_SQL
from ..services.forecast_weights import MAX_LEAD
from ..weeks import monday_of, tenant_tz
from .scores import exact_add, squared_error

# Per scored (snapshot, period): the forecast sums (credit, stage, commit, fitted stage) and the Brier terms.
SCORED_SUMS = ("credit_amount", "stage_amount", "commit_amount", "fit_amount")


def scope_sql(scope: str) -> str:
    return {"company": "TRUE", "team": "team_id = %(scope_id)s", "region": "region_id = %(scope_id)s"}[scope]


def line_scope_sql(scope: str, alias: str) -> str:
    return scope_sql(scope).replace("team_id", f"{alias}.team_id").replace("region_id", f"{alias}.region_id")


def sealed_pairs(cursor) -> set[tuple[dt.date, dt.date]]:
    """(snapshot week, forecast week) pairs sealed: their lines are summed in SealedLineSums."""
    cursor.execute("SELECT s.week, sw.week FROM forecasting_sealedweek sw "
                   "JOIN forecasting_forecastsnapshot s ON s.id = sw.snapshot_id")
    return set(cursor.fetchall())


def scored_cells(used, monthly: bool, sealed: set) -> tuple[list, list]:
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


def _cells_params(cells) -> dict:
    return {"weeks": [c[0] for c in cells], "closes": [c[1] for c in cells], "starts": [c[2] for c in cells],
            "finishes": [c[3] for c in cells]}


def sealed_sums(cursor, scope: str, scope_id, monthly: bool, cells) -> dict[tuple[dt.date, dt.date], list]:
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
        WHERE {line_scope_sql(scope, "r")}
        GROUP BY 1, 2
        """,
        {"scope_id": scope_id, **_cells_params(cells)},
    )
    return {(week, start): list(values) for week, start, *values in cursor.fetchall()}


def _line_sums(cursor, scope: str, scope_id, monthly: bool, cells) -> dict[tuple[dt.date, dt.date], list]:
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
        WHERE {line_scope_sql(scope, "l")}
        GROUP BY 1, 2
        """,
        {"scope_id": scope_id, **_cells_params(cells)},
    )
    return {(week, start): list(values) for week, start, *values in cursor.fetchall()}


def forecast_sums(cursor, scope, scope_id, monthly, open_cells, sealed_rows):
    """(snapshot week, period start) → (credit, stage, commit, fitted stage or None): the sealed cells' sums
    plus the other cells' (exact numerics added, then floats: the same figure however the cells split)."""
    totals: dict = {}
    for key, values in sealed_rows.items():
        totals[key] = exact_add(totals.get(key), values[:len(SCORED_SUMS)])
    for key, values in _line_sums(cursor, scope, scope_id, monthly, open_cells).items():
        totals[key] = exact_add(totals.get(key), values)
    return {key: tuple(None if v is None else float(v) for v in values) for key, values in totals.items()}


def residuals(cursor, scope: str, scope_id, used) -> dict[tuple[dt.date, dt.date], float]:
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


def in_week_weeks(cursor) -> set[dt.date]:
    """Weeks of the snapshots frozen with in-week weights (the fitted stage method exists for them)."""
    cursor.execute("SELECT week FROM forecasting_forecastsnapshot WHERE weights IS NOT NULL")
    return {row[0] for row in cursor.fetchall()}


def commit_adjustments(cursor, scope: str, scope_id) -> dict[dt.date, float]:
    """Week → Σ (manager's figure − the reps' roll-up then), latest adjustment per team and week."""
    cursor.execute(
        f"""
        SELECT period, SUM(amount - rollup) FROM (
            SELECT DISTINCT ON (a.team_id, a.period) a.period, a.amount, a.rollup, a.team_id, t.region_id
            FROM forecasting_commitadjustment a JOIN org_team t ON t.id = a.team_id
            ORDER BY a.team_id, a.period, a.at DESC, a.id DESC
        ) latest WHERE {scope_sql(scope)} GROUP BY period
        """,
        {"scope_id": scope_id},
    )
    return {period: float(delta) for period, delta in cursor.fetchall()}


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


def brier_scores(cursor, open_cells, sealed_rows, scope, scope_id, monthly) -> tuple[float | None, float | None, int,
                                                                                   float | None]:
    """Per opportunity line of the snapshots scored: (weight − outcome)², the outcome being the event the
    weight forecast: won within the line's week (in-week lines, `lead` set; the week is over), or won
    eventually for lines frozen before in-week weights (deals closed since). The sealed cells' terms from
    SealedLineSums, the others' from their lines; → (credit, stage, lines scored, fitted stage)."""
    terms = None
    for values in sealed_rows.values():
        terms = exact_add(terms, values[len(SCORED_SUMS):])
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
            WHERE {line_scope_sql(scope, "l")}
            """,
            {"scope_id": scope_id, "tz": str(tenant_tz()), **_cells_params(open_cells)},
        )
        terms = exact_add(terms, cursor.fetchone())
    if not terms or not terms[0]:
        return None, None, 0, None
    lines, won, credit_w2, credit_w_won, stage_w2, stage_w_won, fit_lines, fit_won, fit_w2, fit_w_won = terms
    fitted = (squared_error(fit_w2, fit_w_won, fit_won) / fit_lines) if fit_lines else None
    return (float(squared_error(credit_w2, credit_w_won, won) / lines),
            float(squared_error(stage_w2, stage_w_won, won) / lines), int(lines),
            None if fitted is None else float(fitted))
