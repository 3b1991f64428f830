"""Backtest helpers: the stage method given the same fitting as the credit method, and the
diagnostics that say why one method beats another on the tenant's frozen snapshots.

The credit weight of a band is fitted rolling-origin (deals closed before the snapshot, shrunk toward
a default curve). Comparing it with `Stage.probability` as typed into the pipeline compares a fitted
model with a guess: a pipeline whose probabilities are off against the tenant's own history loses
for that reason alone, whatever the evidence says. `stage_calibrated` gives each stage exactly the
credit curve's treatment — the share won among earlier snapshot lines at that stage of deals closed
before the snapshot, shrunk toward `Stage.probability` with the same strength — so the two methods
differ only in what they condition on (stage vs credit band). `stage_insample` is the share won per
stage over all the history scored: knowledge no forecast had then, an upper bound for the stage
method. Neither is stored; both are computed from the frozen lines.
"""
import datetime as dt

from django.db import connection

from .accuracy import Score, _periods, _won_by_day
from .services.forecast_weights import PRIOR_STRENGTH
from .weeks import monday_of, tenant_tz, week_start

CLOSED_CTE = """
closed AS (
    SELECT c.opportunity_id, c.at AS from_at, c.next_at AS to_at, s.outcome
    FROM (SELECT opportunity_id, at, to_stage_id, lead(at) OVER (PARTITION BY opportunity_id ORDER BY at, id) AS next_at
          FROM followups_stagechange) c
    JOIN followups_stage s ON s.id = c.to_stage_id AND s.outcome <> 'open'
)"""

WEIGHTS_SQL = f"""
WITH {CLOSED_CTE},
fit AS (
    SELECT s.id AS snapshot_id, l.stage_id, COUNT(*) AS closed, COUNT(*) FILTER (WHERE c.outcome = 'won') AS won
    FROM forecasting_forecastsnapshot s
    JOIN forecasting_forecastsnapshot e ON e.taken_at < s.taken_at
    JOIN forecasting_snapshotline l ON l.snapshot_id = e.id
    JOIN closed c ON c.opportunity_id = l.opportunity_id AND c.from_at < s.taken_at
        AND (c.to_at IS NULL OR s.taken_at <= c.to_at)
    GROUP BY 1, 2
),
final AS (
    SELECT o.id, st.outcome = 'won' AS won FROM followups_opportunity o
    JOIN followups_stage st ON st.id = o.stage_id AND st.outcome <> 'open'
),
insample AS (
    SELECT l.stage_id, AVG(CASE WHEN f.won THEN 1.0 ELSE 0.0 END) AS share
    FROM forecasting_snapshotline l JOIN final f ON f.id = l.opportunity_id GROUP BY l.stage_id
)
SELECT s.week, l.opportunity_id, l.close_week, l.amount::float8, l.credit_weight, l.stage_weight,
    ((COALESCE(f.won, 0) + %(k)s * st.probability / 100.0) / (COALESCE(f.closed, 0) + %(k)s))::float8 AS calibrated,
    COALESCE(i.share, st.probability / 100.0)::float8 AS insample,
    fin.won
FROM forecasting_snapshotline l
JOIN forecasting_forecastsnapshot s ON s.id = l.snapshot_id
JOIN followups_stage st ON st.id = l.stage_id
LEFT JOIN fit f ON f.snapshot_id = s.id AND f.stage_id = l.stage_id
LEFT JOIN insample i ON i.stage_id = l.stage_id
LEFT JOIN final fin ON fin.id = l.opportunity_id
WHERE l.close_week IS NOT NULL
"""

WON_WEEK_SQL = """
SELECT DISTINCT ON (sc.opportunity_id) sc.opportunity_id, date_trunc('week', sc.at AT TIME ZONE %(tz)s)::date
FROM followups_stagechange sc JOIN followups_stage s ON s.id = sc.to_stage_id AND s.outcome = 'won'
ORDER BY sc.opportunity_id, sc.at DESC
"""

# In-period fits: P(won within the very week the line forecast | band or stage), fitted rolling-origin
# on earlier lines forecasting a week already over, at the same lead; shrunk toward the pooled rate
# of those lines (the same prior for both features, so neither is favoured). The period's forecast is
# that pipeline part plus the same residual for both (the amount won lately by deals the pipeline did
# not forecast for their week at this lead: created or pulled in later), so they differ only by feature.
INPERIOD_SQL = """
WITH won AS (
    SELECT sc.opportunity_id, sc.at FROM followups_stagechange sc
    JOIN followups_stage s ON s.id = sc.to_stage_id AND s.outcome = 'won'
),
lined AS (
    SELECT l.snapshot_id, e.week, l.opportunity_id, l.close_week, l.amount, l.band, l.stage_id,
        EXISTS (SELECT 1 FROM won w WHERE w.opportunity_id = l.opportunity_id
                AND w.at >= (l.close_week::timestamp AT TIME ZONE %(tz)s)
                AND w.at < ((l.close_week + 7)::timestamp AT TIME ZONE %(tz)s)) AS hit
    FROM forecasting_snapshotline l JOIN forecasting_forecastsnapshot e ON e.id = l.snapshot_id
    WHERE l.close_week = e.week + 7 * %(lead)s
),
fit AS (
    SELECT s.id, t.{feature} AS feature, COUNT(*) AS n, COUNT(*) FILTER (WHERE t.hit) AS won
    FROM forecasting_forecastsnapshot s JOIN lined t ON t.close_week + 7 <= s.week
    GROUP BY 1, 2
),
pooled AS (
    SELECT s.id, COUNT(*) AS n, COUNT(*) FILTER (WHERE t.hit) AS won
    FROM forecasting_forecastsnapshot s JOIN lined t ON t.close_week + 7 <= s.week
    GROUP BY 1
)
SELECT l.week, l.close_week, l.opportunity_id, l.amount::float8,
    ((COALESCE(f.won, 0) + %(k)s * COALESCE(p.won::float8 / NULLIF(p.n, 0), 0.2)) / (COALESCE(f.n, 0) + %(k)s))::float8,
    l.hit
FROM lined l
LEFT JOIN fit f ON f.id = l.snapshot_id AND f.feature = l.{feature}
LEFT JOIN pooled p ON p.id = l.snapshot_id
"""

METHODS = ("credit", "stage", "stage_calibrated", "stage_insample", "credit_inperiod", "stage_inperiod",
           "commit", "runrate")
RESIDUAL_WEEKS = 4


def backtest(*, lead: int, now: dt.datetime) -> dict:
    """WAPE/bias of every method at `lead` weeks over closed weeks, Brier per line, and diagnostics
    of the lines scored (mean weight of each method, share won eventually and share won in the week
    the line forecast)."""
    from .accuracy import accuracy_measure

    base = accuracy_measure(lead=lead, now=now)
    tz = tenant_tz()
    current = week_start(now, tz)
    with connection.cursor() as cursor:
        cursor.execute(WEIGHTS_SQL, {"k": PRIOR_STRENGTH})
        lines = cursor.fetchall()
        cursor.execute(WON_WEEK_SQL, {"tz": str(tz)})
        won_week = dict(cursor.fetchall())
        won = _won_by_day(cursor, "company", None)
        cursor.execute("SELECT week FROM forecasting_forecastsnapshot")
        weeks = {row[0] for row in cursor.fetchall()}
        inperiod = {}
        for name, feature in (("credit_inperiod", "band"), ("stage_inperiod", "stage_id")):
            cursor.execute(INPERIOD_SQL.format(feature=feature), {"tz": str(tz), "lead": lead, "k": PRIOR_STRENGTH})
            inperiod[name] = cursor.fetchall()
    sums: dict[tuple, list[float]] = {}
    for week, _, close_week, amount, _, _, calibrated, insample, _ in lines:
        cell = sums.setdefault((week, close_week), [0.0, 0.0])
        cell[0] += amount * calibrated
        cell[1] += amount * insample
    scores = {m: base.scores[m] for m in ("credit", "stage", "commit", "runrate")}
    scores["stage_calibrated"] = Score("stage_calibrated")
    scores["stage_insample"] = Score("stage_insample")
    inperiod_sums, covered = {}, {}
    for name, found in inperiod.items():
        scores[name] = Score(name)
        for week, close_week, _, amount, weight, hit in found:
            inperiod_sums[(name, week, close_week)] = inperiod_sums.get((name, week, close_week), 0.0) + amount * weight
            if hit and name == "credit_inperiod":
                covered[close_week] = covered.get(close_week, 0.0) + amount

    def won_in(start):
        return sum(v for day, v in won.items() if start <= day < start + dt.timedelta(weeks=1))

    def residual(snap_week):
        """What the pipeline of a week did not hold: the mean, over the last weeks already over at
        the snapshot, of the amount won that week by deals no line forecast for it at this lead."""
        past = [snap_week - dt.timedelta(weeks=n) for n in range(1, RESIDUAL_WEEKS + 1)]
        past = [q for q in past if q - dt.timedelta(weeks=lead) in weeks]
        return sum(won_in(q) - covered.get(q, 0.0) for q in past) / len(past) if past else 0.0
    used = set()
    for start, end in _periods(min(weeks), current, monthly=False) if weeks else []:
        snap_week = monday_of(start) - dt.timedelta(weeks=lead)
        if snap_week not in weeks:
            continue
        used.add((snap_week, start))
        actual = sum(v for day, v in won.items() if start <= day < end)
        calibrated, insample = sums.get((snap_week, start), (0.0, 0.0))
        scores["stage_calibrated"].add(start, calibrated, actual)
        scores["stage_insample"].add(start, insample, actual)
        for name in inperiod:
            scores[name].add(start, inperiod_sums.get((name, snap_week, start), 0.0) + residual(snap_week), actual)
    scored = [line for line in lines if (line[0], line[2]) in used]
    closed = [line for line in scored if line[8] is not None]
    diagnostics = {"lines": len(scored), "closed_lines": len(closed)}
    if closed:
        n = len(closed)
        diagnostics.update({
            "mean_credit_weight": sum(x[4] for x in closed) / n,
            "mean_stage_weight": sum(x[5] for x in closed) / n,
            "mean_calibrated_weight": sum(x[6] for x in closed) / n,
            "won_eventually": sum(1 for x in closed if x[8]) / n,
            "won_in_forecast_week": sum(1 for x in closed if x[8] and won_week.get(x[1]) == x[2]) / n,
        })
        for name, index in (("credit", 4), ("stage", 5), ("stage_calibrated", 6), ("stage_insample", 7)):
            diagnostics[f"brier_{name}"] = sum((x[index] - (1 if x[8] else 0)) ** 2 for x in closed) / n
        # Share of the amount forecast for a week that was won in a later week (counted again then).
        total = sum(x[3] for x in scored) or 1.0
        diagnostics["amount_won_later"] = sum(
            x[3] for x in scored if x[8] and won_week.get(x[1]) and won_week[x[1]] > x[2]) / total
    for name, found in inperiod.items():
        rows = [x for x in found if (x[0], x[1]) in used]
        if rows:
            diagnostics[f"brier_{name}"] = sum((x[4] - (1 if x[5] else 0)) ** 2 for x in rows) / len(rows)
            diagnostics["won_in_week_lines"] = sum(1 for x in rows if x[5]) / len(rows)
    return {"scores": scores, "diagnostics": diagnostics}
