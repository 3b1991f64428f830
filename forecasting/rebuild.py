"""Rebuilding many past weeks' snapshots "as known then" in one pass over the event streams.

`snapshot_take(rebuilt=True)` answers one week with one statement; run 26 times it re-reads every
event table 26 times. Here each event table is read once: every stream (stage changes, amount and
close-date changes, evidence with its reviews, commit entries) is turned into intervals of validity
per opportunity — value v held from `at_i` until the next event `at_{i+1}` — and joined to all the
weeks' instants at once; credit is a running sum of point deltas (an item's points when it was
created, then the change each later review made) bucketed by the first week that saw them.

The values read are exactly those of `snapshots.LINES_SQL` for the same instant (the tests compare
digests line for line): the latest event recorded at or before T, else the old value of the first
event after T, else the current value. Lines are staged in a temporary table; the weeks are then
frozen oldest first, each with the in-week weights fitted on the snapshots frozen before it (rolling
origin, `forecast_weights.in_week_fit`, the same call as a week frozen alone) — the same rows,
weights, roll-ups, residual, digest and audit entry as a week frozen alone.
"""
import datetime as dt

from django.db import connection, transaction

from salesflow.org.history import MEMBERSHIP_AS_OF_CTE

from .models_forecast import ForecastSnapshot
from .services.forecast_weights import (
    EVER, LINE_WEIGHT_COLUMNS, STAGE_FIT_JOIN, WeekFit, counts_add, in_week_counts, open_stages, week_fit_from_counts,
)
from .sealing import weeks_seal
from .snapshots import SnapshotResult, snapshot_claim, snapshot_seal
from .weeks import tenant_tz, week_start

# Intervals [at, next_at) per opportunity and stream; `pre` is the value before the first event.
STAGE_SQL = """
CREATE TEMP TABLE rebuild_stage ON COMMIT DROP AS
WITH changes AS (
    SELECT opportunity_id, at, to_stage_id, from_stage_id,
        lead(at) OVER (PARTITION BY opportunity_id ORDER BY at, id) AS next_at,
        row_number() OVER (PARTITION BY opportunity_id ORDER BY at, id) AS n
    FROM followups_stagechange
),
pre AS (
    SELECT DISTINCT ON (opportunity_id) opportunity_id, from_stage_id FROM changes
    WHERE from_stage_id IS NOT NULL ORDER BY opportunity_id, at, n
),
intervals AS (
    SELECT o.id AS opportunity_id, o.created_at AS from_at, f.at AS to_at,
        COALESCE(p.from_stage_id, o.stage_id) AS stage_id
    FROM followups_opportunity o
    LEFT JOIN changes f ON f.opportunity_id = o.id AND f.n = 1
    LEFT JOIN pre p ON p.opportunity_id = o.id
    UNION ALL
    SELECT c.opportunity_id, c.at, c.next_at, c.to_stage_id FROM changes c
)
SELECT w.k, w.t, i.opportunity_id, i.stage_id
FROM intervals i
JOIN followups_stage s ON s.id = i.stage_id AND s.outcome = 'open'
JOIN followups_opportunity o ON o.id = i.opportunity_id
JOIN rebuild_week w ON w.t >= i.from_at AND w.t >= o.created_at AND (i.to_at IS NULL OR w.t < i.to_at)
"""

LINES_SQL = """
CREATE TEMP TABLE rebuild_line ON COMMIT DROP AS
WITH fields AS (
    SELECT record_id, field, at, id, new_value, old_value,
        lead(at) OVER (PARTITION BY record_id, field ORDER BY at, id) AS next_at,
        (array_agg(old_value) FILTER (WHERE old_value IS NOT NULL) OVER (
            PARTITION BY record_id, field ORDER BY at, id ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING))[1]
            AS later_old
    FROM followups_recordchange
    WHERE record_type = 'opportunity' AND field IN ('amount', 'expected_close')
),
pre AS (
    SELECT record_id, field, MIN(at) AS first_at,
        (array_agg(old_value ORDER BY at, id) FILTER (WHERE old_value IS NOT NULL))[1] AS old_value
    FROM fields GROUP BY 1, 2
),
reviews AS (
    SELECT r.evidence_id, r.at, r.id, r.points_before, r.points_after,
        lag(r.points_after) OVER (PARTITION BY r.evidence_id ORDER BY r.at, r.id) AS previous_after
    FROM forecasting_evidencereview r
),
at_creation AS (
    SELECT r.evidence_id,
        (array_agg(r.points_after ORDER BY r.at DESC, r.id DESC) FILTER (WHERE r.at <= e.created_at))[1] AS by_then,
        (array_agg(r.points_before ORDER BY r.at, r.id) FILTER (WHERE r.at > e.created_at))[1] AS later_before
    FROM reviews r JOIN forecasting_evidence e ON e.id = r.evidence_id
    GROUP BY r.evidence_id
),
points AS (
    -- An item's points when created (latest review by then, else the first later review's
    -- "before", else its stored points), then each later review's change.
    SELECT e.opportunity_id, e.created_at AS at, COALESCE(a.by_then, a.later_before, e.points) AS delta
    FROM forecasting_evidence e LEFT JOIN at_creation a ON a.evidence_id = e.id
    UNION ALL
    SELECT e.opportunity_id, r.at, r.points_after - COALESCE(r.previous_after, r.points_before)
    FROM reviews r JOIN forecasting_evidence e ON e.id = r.evidence_id AND r.at > e.created_at
),
bucketed AS (
    -- First week whose instant is at or after the event.
    SELECT opportunity_id, b + CASE WHEN b > 0 AND at = (%(ts)s::timestamptz[])[b] THEN 0 ELSE 1 END AS first_k,
        delta
    FROM (SELECT opportunity_id, at, width_bucket(at, %(ts)s::timestamptz[]) AS b, delta FROM points) p
),
credit_steps AS (
    -- Credit from the first week that saw a step until the week before the next step.
    SELECT opportunity_id, first_k,
        lead(first_k) OVER (PARTITION BY opportunity_id ORDER BY first_k) AS next_k,
        SUM(SUM(delta)) OVER (PARTITION BY opportunity_id ORDER BY first_k)::int AS credit
    FROM bucketed GROUP BY 1, 2
),
commits AS (
    SELECT opportunity_id, at, category, period,
        lead(at) OVER (PARTITION BY opportunity_id ORDER BY at, id) AS next_at
    FROM forecasting_commitentry
)
SELECT st.k, st.opportunity_id, o.owner_id, st.stage_id,
    COALESCE((ab.new_value #>> '{}')::numeric, (COALESCE(ab.later_old, ap.old_value) #>> '{}')::numeric, o.amount)
        AS amount,
    CASE WHEN cb.record_id IS NOT NULL THEN (cb.new_value #>> '{}')::date
         WHEN cp.old_value IS NOT NULL THEN (cp.old_value #>> '{}')::date
         ELSE o.expected_close END AS close_date,
    COALESCE(cr.credit, 0) AS credit, cm.category, cm.period
FROM rebuild_stage st
JOIN followups_opportunity o ON o.id = st.opportunity_id
LEFT JOIN fields ab ON ab.record_id = st.opportunity_id AND ab.field = 'amount'
    AND ab.at <= st.t AND (ab.next_at IS NULL OR st.t < ab.next_at)
LEFT JOIN pre ap ON ap.record_id = st.opportunity_id AND ap.field = 'amount' AND st.t < ap.first_at
LEFT JOIN fields cb ON cb.record_id = st.opportunity_id AND cb.field = 'expected_close'
    AND cb.at <= st.t AND (cb.next_at IS NULL OR st.t < cb.next_at)
LEFT JOIN pre cp ON cp.record_id = st.opportunity_id AND cp.field = 'expected_close'
LEFT JOIN credit_steps cr ON cr.opportunity_id = st.opportunity_id AND cr.first_k <= st.k
    AND (cr.next_k IS NULL OR st.k < cr.next_k)
LEFT JOIN commits cm ON cm.opportunity_id = st.opportunity_id AND cm.at <= st.t
    AND (cm.next_at IS NULL OR st.t < cm.next_at)
"""

# Team and region as of the week's instant, by the same fragment as the one-week statement (a few
# hundred membership periods: read once per week).
INSERT_SQL = """
WITH """ + MEMBERSHIP_AS_OF_CTE + """
INSERT INTO forecasting_snapshotline
    (snapshot_id, opportunity_id, owner_id, team_id, region_id, stage_id, amount, close_date, close_week,
     credit, band, stage_weight, category, lead, credit_weight, stage_fit_weight)
SELECT %(snapshot)s, k.opportunity_id, k.owner_id, oa.team_id, oa.region_id, k.stage_id,
    k.amount, k.close_date, date_trunc('week', k.close_date)::date, k.credit,
    width_bucket(k.credit, %(edges)s::int[]),
    s.probability / 100.0,
    CASE WHEN k.category IS NOT NULL AND k.period = date_trunc('week', k.close_date)::date THEN k.category
         ELSE 'pipeline' END,
    """ + LINE_WEIGHT_COLUMNS + """
FROM rebuild_line k
JOIN followups_stage s ON s.id = k.stage_id
LEFT JOIN org_at oa ON oa.user_id = k.owner_id
""" + STAGE_FIT_JOIN + """
WHERE k.k = %(k)s
"""


def history_rebuild_set(*, now: dt.datetime, weeks: int, actor: str) -> list[SnapshotResult]:
    """Rebuild the `weeks` past weeks before `now`'s week (oldest first), each as known at its
    Monday 00:00 tenant time; weeks already frozen are kept as they are. One transaction."""
    tz = tenant_tz()
    current = week_start(now, tz)
    mondays = [current - dt.timedelta(weeks=back) for back in range(weeks, 0, -1)]
    results: dict[dt.date, SnapshotResult] = {}
    with transaction.atomic():
        for snapshot in ForecastSnapshot.objects.filter(week__in=mondays):
            results[snapshot.week] = SnapshotResult(connection.schema_name, snapshot.week, snapshot.opportunities,
                                                    snapshot.weighted, snapshot.committed, new=False)
        todo = [monday for monday in mondays if monday not in results]
        if todo:
            instants = [dt.datetime.combine(monday, dt.time.min, tzinfo=tz) for monday in todo]
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL work_mem = '128MB'")  # sorts and hashes of a batch job in memory
            _stage_lines(instants)
            stages, counts, since = open_stages(), {}, EVER
            for k, (monday, instant) in enumerate(zip(todo, instants), start=1):
                # The fit `in_week_fit` makes for this week, grown by the lines whose week ended since the last.
                counts = counts_add(counts, in_week_counts(week=monday, before=instant, since=since))
                since = monday
                results[monday] = _freeze(k, monday, instant, actor, week_fit_from_counts(monday, counts, stages))
            _drop_temp()
        weeks_seal(now=now)  # every week over, for the accuracy page
    return [results[monday] for monday in mondays]


TEMP_TABLES = ("rebuild_week", "rebuild_stage", "rebuild_line")


def _drop_temp() -> None:
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS " + ", ".join(TEMP_TABLES))


def _stage_lines(instants: list[dt.datetime]) -> None:
    _drop_temp()
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE rebuild_week ON COMMIT DROP AS "
            "SELECT * FROM unnest(%s::int[], %s::timestamptz[]) AS w(k, t)",
            [list(range(1, len(instants) + 1)), instants],
        )
        cursor.execute(STAGE_SQL)
        cursor.execute("CREATE INDEX ON rebuild_stage (opportunity_id)")
        cursor.execute("ANALYZE rebuild_stage")
        cursor.execute(LINES_SQL, {"ts": instants})
        cursor.execute("CREATE INDEX ON rebuild_line (k)")
        cursor.execute("ANALYZE rebuild_line")


def _freeze(k: int, week: dt.date, instant: dt.datetime, actor: str, fit: WeekFit) -> SnapshotResult:
    with connection.cursor() as cursor:
        claimed = snapshot_claim(cursor, week=week, taken_at=instant, rebuilt=True)
        if isinstance(claimed, SnapshotResult):  # frozen meanwhile by another process
            return claimed
        cursor.execute(INSERT_SQL, {"snapshot": claimed, "k": k, "t": instant, **fit.sql_params()})
        return snapshot_seal(cursor, snapshot_id=claimed, week=week, taken_at=instant, rebuilt=True, fit=fit,
                             actor=actor)
