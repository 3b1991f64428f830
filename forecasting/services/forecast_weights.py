"""Credit bands and the weights a frozen snapshot uses: P(won within the week the line forecasts).

A line of the snapshot of week S forecasting close week W has a lead L = (W − S) in weeks (a close
week already past counts as lead 0 — the board shows such deals in this week — and leads beyond the
board's horizon count as MAX_LEAD). Its weight is the share, among earlier frozen lines at the same
lead whose forecast week is already over at S, of those whose deal was won **within that very week**
(rolling origin: every such line's outcome is known, so nothing is censored). That is the quantity a
weekly forecast sums: the amount expected to be won in that week. (Eventual-win rates over-forecast a
week 2.5–3×: a third of the lines are won eventually, an eighth in their week; bench/README.md.)

The same fit is made with the stage as the feature instead of the credit band ("stage, fitted like
credit"), so credit and stage differ only in what they condition on. Each cell is shrunk toward the
pooled in-week rate of all lines at that lead — the same prior for both features — as if
PRIOR_STRENGTH more lines had that rate (empirical Bayes, beta prior): (won + k·p) / (lines + k).
At a lead with no history yet the prior is the default eventual-win curve (for the stage:
`Stage.probability`) scaled by IN_WEEK_SHARE, the share of eventual wins that land in the forecast
week in the seeded histories (12–15 % of 35–39 %).

Snapshots frozen before this estimand (lines without `lead`) keep the eventual-win weight they froze
and are read as before; their lines still count toward later fits (the fit reads band, stage, close
week and outcome, not the weight).
"""
import datetime as dt
from dataclasses import dataclass

from django.db import connection

from ..weeks import tenant_tz

# Lower bounds of bands 1..7; band 0 is below 5 points. SQL: width_bucket(credit, BAND_EDGES).
BAND_EDGES = [5, 10, 15, 20, 25, 30, 40]
BANDS = len(BAND_EDGES) + 1
DEFAULT_CURVE = [0.05, 0.10, 0.18, 0.28, 0.40, 0.52, 0.64, 0.78]  # eventual-win shares, before any history
IN_WEEK_SHARE = 0.35
PRIOR_STRENGTH = 20  # pseudo lines at the prior rate
MAX_LEAD = 11  # the board shows this week and the 11 after it


@dataclass(frozen=True)
class Band:
    index: int
    closed: int  # lines at this lead whose forecast week is over
    won: int  # of those, won within that week
    prior: float
    weight: float

    @property
    def label(self) -> str:
        low = 0 if self.index == 0 else BAND_EDGES[self.index - 1]
        if self.index == len(BAND_EDGES):
            return f"≥{low}"
        return f"{low}–{BAND_EDGES[self.index] - 1}"

    @property
    def win_rate(self) -> float | None:
        return self.won / self.closed if self.closed else None

    def as_json(self) -> dict:
        return {"band": self.index, "closed": self.closed, "won": self.won, "prior": self.prior, "weight": self.weight}


@dataclass(frozen=True)
class LeadFit:
    lead: int
    lines: int  # pooled: every line at this lead whose week is over
    won: int
    bands: list[Band]
    stages: dict[int, Band]  # stage id → cell (index = stage id)

    @property
    def pooled(self) -> float | None:
        return self.won / self.lines if self.lines else None

    def as_json(self) -> dict:
        return {"lead": self.lead, "lines": self.lines, "won": self.won, "bands": [b.as_json() for b in self.bands],
                "stages": [s.as_json() for s in self.stages.values()]}


@dataclass(frozen=True)
class WeekFit:
    """The weights of one snapshot: per lead 0..MAX_LEAD, per band and per stage."""

    week: dt.date
    leads: list[LeadFit]

    def at(self, lead: int) -> LeadFit:
        return self.leads[min(max(lead, 0), MAX_LEAD)]

    def as_json(self) -> dict:
        return {"week": self.week.isoformat(), "leads": [lead.as_json() for lead in self.leads]}

    def sql_params(self) -> dict:
        """Parameters of LINE_WEIGHT_COLUMNS / STAGE_FIT_JOIN for a statement freezing this week's lines."""
        stage_rows = [(stage_id, lead.lead, cell.weight) for lead in self.leads for stage_id, cell in lead.stages.items()]
        return {
            "week": self.week, "max_lead": MAX_LEAD, "edges": BAND_EDGES, "bands": BANDS,
            "band_weights": [band.weight for lead in self.leads for band in lead.bands],
            "fit_stages": [r[0] for r in stage_rows], "fit_leads": [r[1] for r in stage_rows],
            "fit_weights": [r[2] for r in stage_rows],
        }


def band_of(credit: int) -> int:
    return sum(1 for edge in BAND_EDGES if credit >= edge)


def shrink(*, won: int, closed: int, prior: float, strength: float = PRIOR_STRENGTH) -> float:
    return (won + strength * prior) / (closed + strength)


def week_fit_from_json(data: dict) -> WeekFit:
    def band(r):
        return Band(r["band"], r["closed"], r["won"], r["prior"], r["weight"])

    return WeekFit(dt.date.fromisoformat(data["week"]), [
        LeadFit(row["lead"], row["lines"], row["won"], [band(b) for b in row["bands"]],
                {s["band"]: band(s) for s in row["stages"]})
        for row in data["leads"]
    ])


# The lead of a line being frozen (source alias k: close_date, credit, stage_id) for the week %(week)s.
LEAD_SQL = ("LEAST(GREATEST(COALESCE(date_trunc('week', k.close_date)::date - %(week)s::date, 7 * %(max_lead)s), 0) / 7,"
            " %(max_lead)s)")
# Columns lead, credit_weight (in-week, by band and lead) and stage_fit_weight of a line being frozen.
LINE_WEIGHT_COLUMNS = (
    f"{LEAD_SQL}, (%(band_weights)s::float8[])[{LEAD_SQL} * %(bands)s + width_bucket(k.credit, %(edges)s::int[]) + 1],"
    " fs.weight"
)
STAGE_FIT_JOIN = (
    "LEFT JOIN unnest(%(fit_stages)s::bigint[], %(fit_leads)s::int[], %(fit_weights)s::float8[])"
    f" AS fs(stage_id, lead, weight) ON fs.stage_id = k.stage_id AND fs.lead = {LEAD_SQL}"
)

# Earlier frozen lines whose forecast week (the close week, or the snapshot's week when the close week
# was already past) ended by the start of week %(week)s — and began on or after %(since)s — with whether
# the deal was won within it. Counts only grow: a week's counts are the previous week's plus the lines
# whose forecast week ended in between (what the set-based rebuild adds week by week).
IN_WEEK_COUNTS_SQL = """
WITH won AS (
    SELECT DISTINCT sc.opportunity_id, date_trunc('week', sc.at AT TIME ZONE %(tz)s)::date AS week
    FROM followups_stagechange sc JOIN followups_stage s ON s.id = sc.to_stage_id AND s.outcome = 'won'
    WHERE sc.at < %(t)s AND sc.at >= (%(since)s::date::timestamp AT TIME ZONE %(tz)s)
),
lined AS (  -- forecast week E = the close week (A), or the snapshot's week when the close week was past (B)
    SELECT LEAST((l.close_week - e.week) / 7, %(max_lead)s) AS lead, l.band, l.stage_id,
        w.opportunity_id IS NOT NULL AS hit
    FROM forecasting_forecastsnapshot e
    JOIN forecasting_snapshotline l ON l.snapshot_id = e.id
        AND l.close_week >= GREATEST(e.week, %(since)s) AND l.close_week <= %(week)s - 7
    LEFT JOIN won w ON w.opportunity_id = l.opportunity_id AND w.week = l.close_week
    WHERE e.week <= %(week)s - 7
    UNION ALL
    SELECT 0, l.band, l.stage_id, w.opportunity_id IS NOT NULL
    FROM forecasting_forecastsnapshot e
    JOIN forecasting_snapshotline l ON l.snapshot_id = e.id AND l.close_week < e.week
    LEFT JOIN won w ON w.opportunity_id = l.opportunity_id AND w.week = e.week
    WHERE e.week >= %(since)s AND e.week <= %(week)s - 7
)
SELECT lead, GROUPING(band), GROUPING(stage_id), band, stage_id, COUNT(*), COUNT(*) FILTER (WHERE hit)
FROM lined GROUP BY GROUPING SETS ((lead), (lead, band), (lead, stage_id))
"""

Counts = dict[tuple, tuple[int, int]]  # (lead, no band, no stage, band, stage id) → (lines, won)
EVER = dt.date(1, 1, 1)


def in_week_counts(*, week: dt.date, before: dt.datetime, since: dt.date = EVER) -> Counts:
    """Counts of lines whose forecast week lies in [since, week − 7 days], outcomes known before `before`."""
    with connection.cursor() as cursor:
        cursor.execute(IN_WEEK_COUNTS_SQL, {"tz": str(tenant_tz()), "t": before, "week": week, "since": since,
                                            "max_lead": MAX_LEAD})
        return {tuple(row[:5]): (row[5], row[6]) for row in cursor.fetchall()}


def counts_add(counts: Counts, more: Counts) -> Counts:
    total = dict(counts)
    for key, (lines, won) in more.items():
        before = total.get(key, (0, 0))
        total[key] = (before[0] + lines, before[1] + won)
    return total


def open_stages() -> list[tuple[int, int]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, probability FROM followups_stage WHERE outcome = 'open' ORDER BY id")
        return cursor.fetchall()


def in_week_fit(*, week: dt.date, before: dt.datetime) -> WeekFit:
    """The weights for the snapshot of `week` (instant `before`), from lines frozen earlier (rolling origin)."""
    return week_fit_from_counts(week, in_week_counts(week=week, before=before), open_stages())


def week_fit_from_counts(week: dt.date, counts: Counts, stages) -> WeekFit:
    """counts: see `in_week_counts`; stages: (id, probability %) of the open stages."""
    pooled, by_band, by_stage = {}, {}, {}
    for (lead, no_band, no_stage, band, stage_id), (lines, won) in counts.items():
        if no_band and no_stage:
            pooled[lead] = (lines, won)
        elif no_stage:
            by_band[(lead, band)] = (lines, won)
        else:
            by_stage[(lead, stage_id)] = (lines, won)
    leads = []
    for lead in range(MAX_LEAD + 1):
        lines, won = pooled.get(lead, (0, 0))
        rate = won / lines if lines else None

        def cell(index, counts, default):
            n, w = counts
            prior = rate if rate is not None else default * IN_WEEK_SHARE
            return Band(index, n, w, round(prior, 6), round(shrink(won=w, closed=n, prior=prior), 6))

        bands = [cell(b, by_band.get((lead, b), (0, 0)), DEFAULT_CURVE[b]) for b in range(BANDS)]
        fitted = {sid: cell(sid, by_stage.get((lead, sid), (0, 0)), probability / 100) for sid, probability in stages}
        leads.append(LeadFit(lead, lines, won, bands, fitted))
    return WeekFit(week, leads)
