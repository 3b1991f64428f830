"""Credit bands and the weight curve: the tenant's own win rate per band, shrunk toward a default.

Empirical-Bayes shrinkage with a beta prior: a band's weight is the posterior mean
(won + k·p) / (closed + k), where p is the default curve's value for the band and k = PRIOR_STRENGTH
pseudo-deals. A band with no closed deals reads the default; one with hundreds reads its own
win rate.

Rolling origin: fitted only on deals that closed before the instant asked for, each counted with
the band it had in every weekly snapshot frozen before that instant. The weight answers "of the
deals that sat in this band at a weekly snapshot, how many were won?", asked of open deals at the
same point of their life as the forecast. (Fitting on the credit a deal had when it closed would
overstate every band: deals keep collecting evidence until they close.)
"""
from dataclasses import dataclass

from django.db import connection

# Lower bounds of bands 1..7; band 0 is below 5 points. SQL: width_bucket(credit, BAND_EDGES).
BAND_EDGES = [5, 10, 15, 20, 25, 30, 40]
DEFAULT_CURVE = [0.05, 0.10, 0.18, 0.28, 0.40, 0.52, 0.64, 0.78]
PRIOR_STRENGTH = 20  # pseudo snapshot lines at the default rate


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
    SELECT DISTINCT ON (sc.opportunity_id) sc.opportunity_id, s.outcome
    FROM followups_stagechange sc JOIN followups_stage s ON s.id = sc.to_stage_id
    WHERE sc.at < %(t)s
    ORDER BY sc.opportunity_id, sc.at DESC, sc.id DESC
)
SELECT l.band, COUNT(*), COUNT(*) FILTER (WHERE m.outcome = 'won')
FROM forecasting_snapshotline l
JOIN forecasting_forecastsnapshot s ON s.id = l.snapshot_id AND s.taken_at < %(t)s
JOIN last_move m ON m.opportunity_id = l.opportunity_id AND m.outcome <> 'open'
GROUP BY l.band
"""


def curve_fit(*, before) -> list[Band]:
    """The weight curve from frozen snapshot lines of deals closed before `before` (rolling origin)."""
    with connection.cursor() as cursor:
        cursor.execute(CLOSED_COUNTS_SQL, {"t": before, "edges": BAND_EDGES})
        counts = {band: (closed, won) for band, closed, won in cursor.fetchall()}
    return curve_from_counts(counts)
