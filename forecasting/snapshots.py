"""Freezing the week's forecast: one snapshot per tenant and ISO week, written set-based.

Every line is the opportunity *as known at* the snapshot's instant T, read from what was
recorded by then: its stage from StageChange rows, its amount and expected close from
RecordChange rows (where a record predates its history, the old value of the first later
change, else the current value), its credit from Evidence rows created by T with the points
their reviews had left them at T, and its commit category from CommitEntry rows. Lines are
then summed per rep, team, region and the company per close week (`SnapshotRollup`), and the
residual "not yet in the pipeline" is frozen per rep, team, region and the company per lead
(`SnapshotResidual`). Weights: forecast_weights (in-week, per lead; credit band and fitted stage)
and `Stage.probability` as typed. A live
snapshot (Monday 00:00, or the command) and a rebuilt one run the same statement, so the
history of a tenant that starts with us reads the same as one we watched live.

Team and region are the owner's as of T (`salesflow.org.history`: the membership period in force
then), so a rebuilt past week rolls up under that week's teams and regions and a live snapshot
freezes today's.
"""
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction

from audit.services import audit_record

from salesflow.org.history import MEMBERSHIP_AS_OF_CTE

from .models_forecast import ForecastSnapshot
from .sealing import weeks_seal
from .services.forecast_weights import LINE_WEIGHT_COLUMNS, MAX_LEAD, STAGE_FIT_JOIN, WeekFit, in_week_fit
from .weeks import iso_label, tenant_tz, week_start

LINES_SQL = """
WITH """ + MEMBERSHIP_AS_OF_CTE + """,
opp AS (
    SELECT id, owner_id, stage_id, amount, expected_close FROM followups_opportunity WHERE created_at <= %(t)s
),
stage_before AS (
    SELECT DISTINCT ON (opportunity_id) opportunity_id, to_stage_id FROM followups_stagechange
    WHERE at <= %(t)s ORDER BY opportunity_id, at DESC, id DESC
),
stage_after AS (
    SELECT DISTINCT ON (opportunity_id) opportunity_id, from_stage_id FROM followups_stagechange
    WHERE at > %(t)s AND from_stage_id IS NOT NULL ORDER BY opportunity_id, at, id
),
field_before AS (
    SELECT DISTINCT ON (record_id, field) record_id, field, new_value AS value FROM followups_recordchange
    WHERE record_type = 'opportunity' AND field IN ('amount', 'expected_close') AND at <= %(t)s
    ORDER BY record_id, field, at DESC, id DESC
),
field_after AS (
    SELECT DISTINCT ON (record_id, field) record_id, field, old_value AS value FROM followups_recordchange
    WHERE record_type = 'opportunity' AND field IN ('amount', 'expected_close') AND at > %(t)s
      AND old_value IS NOT NULL
    ORDER BY record_id, field, at, id
),
review_before AS (
    SELECT DISTINCT ON (evidence_id) evidence_id, points_after FROM forecasting_evidencereview
    WHERE at <= %(t)s ORDER BY evidence_id, at DESC, id DESC
),
review_after AS (
    SELECT DISTINCT ON (evidence_id) evidence_id, points_before FROM forecasting_evidencereview
    WHERE at > %(t)s ORDER BY evidence_id, at, id
),
credit AS (
    SELECT e.opportunity_id, SUM(COALESCE(rb.points_after, ra.points_before, e.points))::int AS credit
    FROM forecasting_evidence e
    LEFT JOIN review_before rb ON rb.evidence_id = e.id
    LEFT JOIN review_after ra ON ra.evidence_id = e.id
    WHERE e.created_at <= %(t)s
    GROUP BY e.opportunity_id
),
commit AS (
    SELECT DISTINCT ON (opportunity_id) opportunity_id, category, period FROM forecasting_commitentry
    WHERE at <= %(t)s ORDER BY opportunity_id, at DESC, id DESC
),
known AS (
    SELECT o.id, o.owner_id,
        COALESCE(sb.to_stage_id, sa.from_stage_id, o.stage_id) AS stage_id,
        COALESCE((ab.value #>> '{}')::numeric, (aa.value #>> '{}')::numeric, o.amount) AS amount,
        CASE WHEN cb.record_id IS NOT NULL THEN (cb.value #>> '{}')::date
             WHEN ca.record_id IS NOT NULL THEN (ca.value #>> '{}')::date
             ELSE o.expected_close END AS close_date,
        COALESCE(cr.credit, 0) AS credit,
        cm.category, cm.period
    FROM opp o
    LEFT JOIN stage_before sb ON sb.opportunity_id = o.id
    LEFT JOIN stage_after sa ON sa.opportunity_id = o.id
    LEFT JOIN field_before ab ON ab.record_id = o.id AND ab.field = 'amount'
    LEFT JOIN field_after aa ON aa.record_id = o.id AND aa.field = 'amount'
    LEFT JOIN field_before cb ON cb.record_id = o.id AND cb.field = 'expected_close'
    LEFT JOIN field_after ca ON ca.record_id = o.id AND ca.field = 'expected_close'
    LEFT JOIN credit cr ON cr.opportunity_id = o.id
    LEFT JOIN commit cm ON cm.opportunity_id = o.id
)
INSERT INTO forecasting_snapshotline
    (snapshot_id, opportunity_id, owner_id, team_id, region_id, stage_id, amount, close_date, close_week,
     credit, band, stage_weight, category, lead, credit_weight, stage_fit_weight)
SELECT %(snapshot)s, k.id, k.owner_id, oa.team_id, oa.region_id, k.stage_id, k.amount,
    k.close_date, date_trunc('week', k.close_date)::date, k.credit,
    width_bucket(k.credit, %(edges)s::int[]),
    s.probability / 100.0,
    CASE WHEN k.category IS NOT NULL AND k.period = date_trunc('week', k.close_date)::date THEN k.category
         ELSE 'pipeline' END,
    """ + LINE_WEIGHT_COLUMNS + """
FROM known k
JOIN followups_stage s ON s.id = k.stage_id AND s.outcome = 'open'
LEFT JOIN org_at oa ON oa.user_id = k.owner_id
""" + STAGE_FIT_JOIN

ROLLUP_SQL = """
INSERT INTO forecasting_snapshotrollup
    (snapshot_id, level, key, close_week, opportunities, amount, weighted, stage_weighted, committed,
     stage_fit_weighted)
SELECT %(snapshot)s,
    CASE WHEN GROUPING(owner_id) = 0 THEN 'rep' WHEN GROUPING(team_id) = 0 THEN 'team'
         WHEN GROUPING(region_id) = 0 THEN 'region' ELSE 'company' END,
    CASE WHEN GROUPING(owner_id) = 0 THEN owner_id WHEN GROUPING(team_id) = 0 THEN team_id
         WHEN GROUPING(region_id) = 0 THEN region_id END,
    close_week, COUNT(*), SUM(amount), ROUND(SUM(amount * credit_weight::numeric), 2),
    ROUND(SUM(amount * stage_weight::numeric), 2), COALESCE(SUM(amount) FILTER (WHERE category = 'commit'), 0),
    ROUND(SUM(amount * stage_fit_weight::numeric), 2)
FROM forecasting_snapshotline WHERE snapshot_id = %(snapshot)s
GROUP BY GROUPING SETS ((owner_id, close_week), (team_id, close_week), (region_id, close_week), (close_week))
"""

TOTALS_SQL = """
SELECT COUNT(*), COALESCE(SUM(amount * credit_weight::numeric), 0), COALESCE(SUM(amount * stage_weight::numeric), 0),
    COALESCE(SUM(amount) FILTER (WHERE category = 'commit'), 0),
    encode(sha256(convert_to(COALESCE(string_agg(
        concat_ws('|', opportunity_id, owner_id, stage_id, amount, close_date, credit, credit_weight, stage_weight,
                  category, lead, stage_fit_weight), E'\\n' ORDER BY opportunity_id), '')
        || COALESCE((SELECT E'\\n#' || string_agg(concat_ws('|', level, key, lead, amount), E'\\n'
                                                  ORDER BY level, key NULLS FIRST, lead)
                     FROM forecasting_snapshotresidual WHERE snapshot_id = %(snapshot)s), ''), 'UTF8')), 'hex')
FROM forecasting_snapshotline WHERE snapshot_id = %(snapshot)s
"""

RESIDUAL_WEEKS = 4

# The residual "not yet in the pipeline" per lead L: over the RESIDUAL_WEEKS weeks q before this one
# whose snapshot L weeks earlier exists, the mean amount won in q (moves to a won stage recorded
# before T) by deals no line of that snapshot forecast for q; per rep, team and region of the owner
# as of T (the roll-ups' grouping) and the company. Amounts are the deals' amounts as recorded at T
# (the record history, as the lines read them), so a rebuilt week does not see later edits.
# Each won deal is read once (`won`), and the per-lead spans divide the sums after grouping.
RESIDUAL_SQL = """
WITH """ + MEMBERSHIP_AS_OF_CTE + """,
past AS (
    SELECT %(week)s::date - 7 * n AS q, lead, e.id AS earlier
    FROM generate_series(1, %(residual_weeks)s) AS n CROSS JOIN generate_series(0, %(max_lead)s) AS lead
    JOIN forecasting_forecastsnapshot e ON e.week = %(week)s::date - 7 * (n + lead)
),
spans AS (SELECT lead, COUNT(*) AS weeks FROM past GROUP BY lead),
won AS MATERIALIZED (
    SELECT w.opportunity_id, w.week, o.owner_id,
        COALESCE((before.new_value #>> '{}')::numeric, (after.old_value #>> '{}')::numeric, o.amount) AS amount
    FROM (
        SELECT DISTINCT ON (sc.opportunity_id) sc.opportunity_id,
            date_trunc('week', sc.at AT TIME ZONE %(tz)s)::date AS week
        FROM followups_stagechange sc JOIN followups_stage s ON s.id = sc.to_stage_id AND s.outcome = 'won'
        WHERE sc.at < %(t)s AND sc.at >= ((%(week)s::date - 7 * %(residual_weeks)s)::timestamp AT TIME ZONE %(tz)s)
        ORDER BY sc.opportunity_id, sc.at DESC, sc.id DESC
    ) w
    JOIN followups_opportunity o ON o.id = w.opportunity_id
    LEFT JOIN LATERAL (
        SELECT rc.new_value FROM followups_recordchange rc
        WHERE rc.record_type = 'opportunity' AND rc.record_id = w.opportunity_id AND rc.field = 'amount'
          AND rc.at <= %(t)s
        ORDER BY rc.at DESC, rc.id DESC LIMIT 1
    ) before ON TRUE
    LEFT JOIN LATERAL (
        SELECT rc.old_value FROM followups_recordchange rc
        WHERE rc.record_type = 'opportunity' AND rc.record_id = w.opportunity_id AND rc.field = 'amount'
          AND rc.at > %(t)s AND rc.old_value IS NOT NULL
        ORDER BY rc.at, rc.id LIMIT 1
    ) after ON TRUE
),
missed AS (
    SELECT p.lead, w.owner_id, w.amount FROM past p JOIN won w ON w.week = p.q
    WHERE NOT EXISTS (
        SELECT 1 FROM forecasting_snapshotline l WHERE l.snapshot_id = p.earlier
            AND l.opportunity_id = w.opportunity_id AND l.close_week IS NOT NULL
            AND GREATEST(l.close_week, p.q - 7 * p.lead) = p.q)
),
sums AS (
    SELECT GROUPING(m.owner_id) AS no_rep, GROUPING(oa.team_id) AS no_team, GROUPING(oa.region_id) AS no_region,
        m.owner_id, oa.team_id, oa.region_id, m.lead, SUM(m.amount) AS amount
    FROM missed m LEFT JOIN org_at oa ON oa.user_id = m.owner_id
    GROUP BY GROUPING SETS ((m.lead, m.owner_id), (m.lead, oa.team_id), (m.lead, oa.region_id), (m.lead))
)
INSERT INTO forecasting_snapshotresidual (snapshot_id, level, key, lead, amount)
SELECT %(snapshot)s,
    CASE WHEN s.no_rep = 0 THEN 'rep' WHEN s.no_team = 0 THEN 'team' WHEN s.no_region = 0 THEN 'region' ELSE 'company' END,
    CASE WHEN s.no_rep = 0 THEN s.owner_id WHEN s.no_team = 0 THEN s.team_id WHEN s.no_region = 0 THEN s.region_id END,
    s.lead, ROUND(s.amount / sp.weeks, 2)
FROM sums s JOIN spans sp ON sp.lead = s.lead
"""


@dataclass(frozen=True)
class SnapshotResult:
    schema: str
    week: dt.date
    opportunities: int
    weighted: Decimal
    committed: Decimal
    new: bool

    def summary_line(self) -> str:
        return (
            f"forecast snapshot {self.schema} {iso_label(self.week)}: opportunities={self.opportunities} "
            f"weighted={self.weighted:.2f} committed={self.committed:.2f} new={int(self.new)}"
        )


def snapshot_take(*, now: dt.datetime, rebuilt: bool = False, actor="forecast_snapshot") -> SnapshotResult:
    """Freeze the current tenant's forecast for the ISO week holding `now` (tenant time), once.

    Live runs freeze what is known at `now`; rebuilds (`rebuilt=True`) what was known at the
    week's Monday 00:00. A week already frozen is left exactly as it is.
    """
    tz = tenant_tz()
    week = week_start(now, tz)
    taken_at = dt.datetime.combine(week, dt.time.min, tzinfo=tz) if rebuilt else now
    result = _snapshot_freeze(week=week, taken_at=taken_at, rebuilt=rebuilt, actor=actor)
    weeks_seal(now=now)  # the week that just ended (and any other over), for the accuracy page
    return result


def _snapshot_freeze(*, week: dt.date, taken_at: dt.datetime, rebuilt: bool, actor: str) -> SnapshotResult:
    with transaction.atomic():
        with connection.cursor() as cursor:
            claimed = snapshot_claim(cursor, week=week, taken_at=taken_at, rebuilt=rebuilt)
            if isinstance(claimed, SnapshotResult):
                return claimed
            fit = in_week_fit(week=week, before=taken_at)
            cursor.execute(LINES_SQL, {"t": taken_at, "snapshot": claimed, **fit.sql_params()})
            return snapshot_seal(cursor, snapshot_id=claimed, week=week, taken_at=taken_at, rebuilt=rebuilt,
                                 fit=fit, actor=actor)


def snapshot_claim(cursor, *, week: dt.date, taken_at: dt.datetime, rebuilt: bool) -> int | SnapshotResult:
    """Insert the week's snapshot row and return its id, or the existing week's result when it is frozen already."""
    cursor.execute(
        """
        INSERT INTO forecasting_forecastsnapshot
            (week, taken_at, rebuilt, opportunities, weighted, stage_weighted, committed, curve, digest, created_at)
        VALUES (%(week)s, %(t)s, %(rebuilt)s, 0, 0, 0, 0, '[]', '', now())
        ON CONFLICT (week) DO NOTHING RETURNING id
        """,
        {"week": week, "t": taken_at, "rebuilt": rebuilt},
    )
    row = cursor.fetchone()
    if row is None:
        existing = ForecastSnapshot.objects.get(week=week)
        return SnapshotResult(connection.schema_name, week, existing.opportunities, existing.weighted,
                              existing.committed, new=False)
    return row[0]


def snapshot_seal(cursor, *, snapshot_id: int, week: dt.date, taken_at: dt.datetime, rebuilt: bool, fit: WeekFit,
                  actor: str) -> SnapshotResult:
    """After the lines are in: roll them up, freeze the residual, store totals, weights and digest, and
    append the digest to the audit log."""
    cursor.execute(ROLLUP_SQL, {"snapshot": snapshot_id})
    cursor.execute(RESIDUAL_SQL, {"snapshot": snapshot_id, "week": week, "t": taken_at, "tz": str(tenant_tz()),
                                  "residual_weeks": RESIDUAL_WEEKS, "max_lead": MAX_LEAD})
    cursor.execute(TOTALS_SQL, {"snapshot": snapshot_id})
    count, weighted, stage_weighted, committed, digest = cursor.fetchone()
    weighted = Decimal(weighted).quantize(Decimal("0.01"))
    stage_weighted = Decimal(stage_weighted).quantize(Decimal("0.01"))
    ForecastSnapshot.objects.filter(pk=snapshot_id).update(
        opportunities=count, weighted=weighted, stage_weighted=stage_weighted, committed=committed,
        weights=fit.as_json(), digest=digest,
    )
    audit_record(
        actor=actor, verb="forecast.snapshot_frozen", target_type="forecasting.forecastsnapshot",
        target_id=snapshot_id,
        payload={"week": iso_label(week), "as_known_at": taken_at.isoformat(), "rebuilt": rebuilt,
                 "opportunities": count, "weighted": str(weighted), "stage_weighted": str(stage_weighted),
                 "committed": str(committed), "digest": digest},
    )
    return SnapshotResult(connection.schema_name, week, count, weighted, Decimal(committed), new=True)


def history_rebuild(*, now: dt.datetime, weeks: int) -> list[SnapshotResult]:
    """Rebuild the snapshots of the `weeks` past weeks (oldest first) from what was recorded by each
    Monday 00:00; weeks already frozen are kept as they are. Set-based over all weeks at once
    (forecasting/rebuild.py); the lines equal `snapshot_take(rebuilt=True)` week by week."""
    from .rebuild import history_rebuild_set

    return history_rebuild_set(now=now, weeks=weeks, actor="forecast_snapshot --rebuild-weeks")


def history_rebuild_weekly(*, now: dt.datetime, weeks: int) -> list[SnapshotResult]:
    """The same, one `snapshot_take` per week: the reference the set-based rebuild is tested against."""
    tz = tenant_tz()
    current = week_start(now, tz)
    results = []
    for back in range(weeks, 0, -1):
        monday = current - dt.timedelta(weeks=back)
        instant = dt.datetime.combine(monday, dt.time(12), tzinfo=tz)
        results.append(snapshot_take(now=instant, rebuilt=True, actor="forecast_snapshot --rebuild-weeks"))
    return results
