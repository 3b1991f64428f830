"""Sealing: adding up, once its forecast week is over, what the accuracy page needs of a snapshot's lines.

A line frozen with in-week weights forecast "won within the forecast week" (GREATEST(close week, snapshot
week)); once that week is over the outcome is final (stage changes are recorded as they happen), and the
line's amount, weights, team and region are frozen. `weeks_seal` rolls every such (snapshot, week) not yet
sealed up into `SealedLineSums` and records it in `SealedWeek`, in one statement under a per-tenant lock:
idempotent, derived data (no audit entry), and it never changes a figure — the accuracy page reads the
sealed rows for sealed pairs and the lines for the rest (forecasting/accuracy/).
"""
import datetime as dt

from django.db import connection, transaction
from django.utils import timezone

from .weeks import tenant_tz, week_start

# The Brier terms of a group of lines l with outcome w.won (0/1), as exact numerics: lines, won, Σw² and Σw over
# won lines per weight (the fitted stage's over the lines that have it: fit_lines, fit_won).
BRIER_SUMS_SQL = """
    COUNT(*), COALESCE(SUM(w.won), 0), SUM(l.credit_weight::numeric * l.credit_weight::numeric),
    COALESCE(SUM(l.credit_weight::numeric) FILTER (WHERE w.won = 1), 0),
    SUM(l.stage_weight::numeric * l.stage_weight::numeric),
    COALESCE(SUM(l.stage_weight::numeric) FILTER (WHERE w.won = 1), 0),
    COUNT(l.stage_fit_weight), COALESCE(SUM(w.won) FILTER (WHERE l.stage_fit_weight IS NOT NULL), 0),
    SUM(l.stage_fit_weight::numeric * l.stage_fit_weight::numeric),
    SUM(l.stage_fit_weight::numeric) FILTER (WHERE w.won = 1)
"""
BRIER_COLUMNS = ("lines", "won", "credit_w2", "credit_w_won", "stage_w2", "stage_w_won", "fit_lines", "fit_won",
                 "fit_w2", "fit_w_won")
# Σ amount × weight, Σ commit amount and Σ credit weight (calibration), then the Brier terms.
LINE_SUMS_SQL = """
    SUM(l.amount * l.credit_weight::numeric), SUM(l.amount * l.stage_weight::numeric),
    SUM(l.amount * l.stage_fit_weight::numeric), COALESCE(SUM(l.amount) FILTER (WHERE l.category = 'commit'), 0),
    SUM(l.credit_weight::numeric),""" + BRIER_SUMS_SQL
SUM_COLUMNS = ("credit_amount", "stage_amount", "fit_amount", "commit_amount", "credit_w") + BRIER_COLUMNS

# Pairs (snapshot, forecast week) over by %(until)s and not sealed, for snapshots frozen with in-week weights.
DUE_SQL = """
SELECT s.id, fw::date FROM forecasting_forecastsnapshot s
CROSS JOIN LATERAL generate_series(s.week, %(until)s::date - 7, interval '7 days') AS fw
WHERE s.weights IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM forecasting_sealedweek sw WHERE sw.snapshot_id = s.id AND sw.week = fw::date)
"""

# Seal the pairs %(ids)s × %(weeks)s (passed as arrays so the planner knows how few they are: one range scan of
# the (snapshot, close week) index each; the snapshot's own week holds every line whose close week was not
# after it, a later week the lines closing in it).
SEAL_SQL = """
WITH due AS (
    SELECT p.id, s.week AS snap_week, p.week,
        CASE WHEN p.week = s.week THEN '-infinity'::date ELSE p.week END AS low
    FROM unnest(%(ids)s::bigint[], %(weeks)s::date[]) AS p(id, week)
    JOIN forecasting_forecastsnapshot s ON s.id = p.id
), marked AS (
    INSERT INTO forecasting_sealedweek (snapshot_id, week) SELECT id, week FROM due RETURNING 1
), won_in AS (
    SELECT DISTINCT sc.opportunity_id, date_trunc('week', sc.at AT TIME ZONE %(tz)s)::date AS week
    FROM followups_stagechange sc JOIN followups_stage ws ON ws.id = sc.to_stage_id AND ws.outcome = 'won'
    WHERE sc.at >= ((SELECT MIN(week) FROM due)::timestamp AT TIME ZONE %(tz)s)
      AND sc.at < (%(until)s::date::timestamp AT TIME ZONE %(tz)s)
)
INSERT INTO forecasting_sealedlinesums
    (snapshot_id, week, close_week, close_month, team_id, region_id, band, """ + ", ".join(SUM_COLUMNS) + """)
SELECT d.id, d.week, CASE WHEN l.close_week >= d.snap_week THEN l.close_week END,
    CASE WHEN l.close_week >= d.snap_week THEN date_trunc('month', l.close_date)::date END,
    l.team_id, l.region_id, l.band, """ + LINE_SUMS_SQL + """
FROM due d
JOIN forecasting_snapshotline l ON l.snapshot_id = d.id AND l.close_week >= d.low AND l.close_week <= d.week
LEFT JOIN won_in wi ON wi.opportunity_id = l.opportunity_id AND wi.week = d.week
CROSS JOIN LATERAL (SELECT CASE WHEN wi.opportunity_id IS NULL THEN 0 ELSE 1 END AS won) w
WHERE l.lead IS NOT NULL
GROUP BY 1, 2, 3, 4, 5, 6, 7
"""


def seal_until(now: dt.datetime) -> dt.date:
    """The Monday before which forecast weeks are over: `now`'s week, never later than today's."""
    return week_start(min(now, timezone.now()), tenant_tz())


def weeks_seal(*, now: dt.datetime) -> int:
    """Seal every (snapshot, forecast week) of the current tenant over by `now`; the number of pairs sealed."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(current_schema() || ':forecast-seal'))")
        until = seal_until(now)
        cursor.execute(DUE_SQL, {"until": until})
        due = cursor.fetchall()
        if due:
            cursor.execute(SEAL_SQL, {"ids": [d[0] for d in due], "weeks": [d[1] for d in due], "until": until,
                                      "tz": str(tenant_tz())})
        return len(due)
