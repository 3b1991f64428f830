"""Credit bands and the weight curve: the tenant's own win rate per band, shrunk toward a default.

Empirical-Bayes shrinkage with a beta prior: a band's weight is the posterior mean
(won + k·p) / (closed + k), where p is the default curve's value for the band and k = PRIOR_STRENGTH
pseudo-deals. A band with no closed deals reads the default; one with hundreds reads its own
win rate. Fitted only on deals that closed before the instant asked for (rolling origin), with
the credit each had as recorded by then.
"""
from dataclasses import dataclass

from django.db import connection

# Lower bounds of bands 1..7; band 0 is below 5 points. SQL: width_bucket(credit, BAND_EDGES).
BAND_EDGES = [5, 10, 15, 20, 25, 30, 40]
DEFAULT_CURVE = [0.05, 0.10, 0.18, 0.28, 0.40, 0.52, 0.64, 0.78]
PRIOR_STRENGTH = 8


@dataclass(frozen=True)
class Band:
    index: int
    closed: int
    won: int
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


def band_of(credit: int) -> int:
    return sum(1 for edge in BAND_EDGES if credit >= edge)


def shrink(*, won: int, closed: int, prior: float, strength: float = PRIOR_STRENGTH) -> float:
    return (won + strength * prior) / (closed + strength)


def curve_from_counts(counts: dict[int, tuple[int, int]]) -> list[Band]:
    """counts: band → (closed, won)."""
    bands = []
    for index, prior in enumerate(DEFAULT_CURVE):
        closed, won = counts.get(index, (0, 0))
        bands.append(Band(index, closed, won, prior, round(shrink(won=won, closed=closed, prior=prior), 6)))
    return bands


def curve_from_json(rows: list[dict]) -> list[Band]:
    return [Band(r["band"], r["closed"], r["won"], r["prior"], r["weight"]) for r in rows] or curve_from_counts({})


CLOSED_COUNTS_SQL = """
WITH last_move AS (
    SELECT DISTINCT ON (sc.opportunity_id) sc.opportunity_id, sc.at, s.outcome
    FROM followups_stagechange sc JOIN followups_stage s ON s.id = sc.to_stage_id
    WHERE sc.at < %(t)s
    ORDER BY sc.opportunity_id, sc.at DESC, sc.id DESC
),
closed AS (SELECT opportunity_id, at, outcome FROM last_move WHERE outcome <> 'open'),
review_before AS (
    SELECT DISTINCT ON (evidence_id) evidence_id, points_after FROM forecasting_evidencereview
    WHERE at < %(t)s ORDER BY evidence_id, at DESC, id DESC
),
review_after AS (
    SELECT DISTINCT ON (evidence_id) evidence_id, points_before FROM forecasting_evidencereview
    WHERE at >= %(t)s ORDER BY evidence_id, at, id
),
credit AS (
    SELECT c.opportunity_id, COALESCE(SUM(COALESCE(rb.points_after, ra.points_before, e.points)), 0) AS credit
    FROM closed c
    LEFT JOIN forecasting_evidence e ON e.opportunity_id = c.opportunity_id AND e.created_at <= c.at
    LEFT JOIN review_before rb ON rb.evidence_id = e.id
    LEFT JOIN review_after ra ON ra.evidence_id = e.id
    GROUP BY c.opportunity_id
)
SELECT width_bucket(cr.credit, %(edges)s::int[]) AS band, COUNT(*), COUNT(*) FILTER (WHERE c.outcome = 'won')
FROM closed c JOIN credit cr ON cr.opportunity_id = c.opportunity_id
GROUP BY 1
"""


def curve_fit(*, before) -> list[Band]:
    """The weight curve from deals closed before `before`, with their credit as recorded at closing."""
    with connection.cursor() as cursor:
        cursor.execute(CLOSED_COUNTS_SQL, {"t": before, "edges": BAND_EDGES})
        counts = {band: (closed, won) for band, closed, won in cursor.fetchall()}
    return curve_from_counts(counts)
