"""Calibration: per credit band at snapshot time, the weight used against the share of lines whose event
happened (won within the forecast week for in-week lines, won eventually for older lines)."""
import datetime as dt
from dataclasses import dataclass

from django.db import connection

from ..services.forecast_weights import BAND_EDGES, DEFAULT_CURVE, IN_WEEK_SHARE
from ..weeks import tenant_tz
from .cache import cached
from .scores import exact_add
from .snapshot_sums import LINE_OUTCOME_SQL, line_scope_sql, sealed_pairs


@dataclass(frozen=True)
class CalibrationRow:
    band: int
    label: str
    lines: int
    predicted: float
    won_share: float | None
    default: float


def calibration(*, scope: str = "company", scope_id=None) -> list[CalibrationRow]:
    return cached("calibration-in-week", (scope, scope_id), lambda: calibration_compute(scope=scope, scope_id=scope_id))


def calibration_compute(*, scope: str = "company", scope_id=None) -> list[CalibrationRow]:
    """Credit band at snapshot time → the weight used and the share of those lines whose event happened: won
    within the forecast week for in-week lines (weeks over), won eventually for older lines (deals closed).
    Sealed weeks from SealedLineSums; in-week lines of weeks over but not sealed yet, and the lines of
    snapshots frozen before in-week weights, from the lines."""
    from ..services.forecast_weights import Band

    found: dict[int, list] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT r.band, SUM(r.lines), SUM(r.credit_w), SUM(r.won) FROM forecasting_sealedlinesums r
            WHERE {line_scope_sql(scope, "r")} GROUP BY r.band
            """,
            {"scope_id": scope_id},
        )
        for band, *values in cursor.fetchall():
            found[band] = exact_add(found.get(band), values)
        for band, *values in _calibration_lines(cursor, scope, scope_id):
            found[band] = exact_add(found.get(band), values)
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
    sealed = sealed_pairs(cursor)
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
        WHERE {line_scope_sql(scope, "l")} GROUP BY l.band
        """,
        {"scope_id": scope_id, "tz": tz, "ids": [c[0] for c in cells], "lows": [c[1] for c in cells],
         "highs": [c[2] for c in cells]},
    )
    return cursor.fetchall()
