"""The statistics of the attribution page: pure functions on counts, no database.

Every comparison is a 2×2 table of closed deals:

                    won   lost
    with the trait   a     b
    without it       c     d

Reference values in the tests come from SciPy 1.17 (`fisher_exact`, `binomtest(...).proportion_ci`,
`false_discovery_control`), which the app itself does not need.
"""
import math
from dataclasses import dataclass

Z_95 = 1.959963984540054  # the standard normal's 97.5 % quantile
# R's fisher.test and SciPy count a table as "as extreme" when its probability is within this
# relative distance of the observed one, so floating-point noise does not drop ties.
_TIE = 1 + 1e-7
# Walking away from the mode, terms this far (in log) below the observed one no longer matter.
_NEGLIGIBLE_LOG = 45.0


@dataclass(frozen=True)
class Interval:
    low: float
    high: float


def wilson_interval(successes: int, trials: int, *, z: float = Z_95) -> Interval | None:
    """Wilson score interval for a proportion; None when there were no trials."""
    if trials <= 0:
        return None
    p = successes / trials
    z2 = z * z
    centre = (p + z2 / (2 * trials)) / (1 + z2 / trials)
    half = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / (1 + z2 / trials)
    return Interval(low=max(0.0, centre - half), high=min(1.0, centre + half))


def odds_ratio(a: int, b: int, c: int, d: int) -> float | None:
    """(a·d)/(b·c); when a cell is zero, 0.5 is added to every cell (Haldane–Anscombe) so the
    ratio stays finite. None when a whole row or column is empty: there is nothing to compare."""
    if (a + b) == 0 or (c + d) == 0 or (a + c) == 0 or (b + d) == 0:
        return None
    if 0 in (a, b, c, d):
        a, b, c, d = a + 0.5, b + 0.5, c + 0.5, d + 0.5
    return (a * d) / (b * c)


def _log_choose(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def fisher_exact_p(a: int, b: int, c: int, d: int) -> float:
    """Two-sided Fisher exact p: the probability, with the margins fixed, of every table no more
    likely than the observed one (the same definition as R's fisher.test and SciPy).

    Walks the hypergeometric distribution outwards from its mode with the ratio of neighbouring
    terms, in log space, and stops once the terms are negligible beside the observed one: a few
    thousand steps even for 100,000 deals.
    """
    row, col, n = a + b, a + c, a + b + c + d
    low, high = max(0, col - (n - row)), min(row, col)
    if low == high:
        return 1.0

    def log_pmf(x: int) -> float:
        return _log_choose(row, x) + _log_choose(n - row, col - x) - _log_choose(n, col)

    observed = log_pmf(a)
    limit = observed + math.log(_TIE)
    mode = min(max((row + 1) * (col + 1) // (n + 2), low), high)
    total = 0.0  # in units of the observed probability, so tiny p-values do not underflow

    log_term = log_pmf(mode)
    x = mode
    while True:  # downwards from the mode, the mode included
        if log_term <= limit:
            total += math.exp(log_term - observed)
        if log_term < observed - _NEGLIGIBLE_LOG or x == low:
            break
        # P(x-1)/P(x) = x·(n-row-col+x) / ((row-x+1)·(col-x+1))
        log_term += math.log(x * (n - row - col + x)) - math.log((row - x + 1) * (col - x + 1))
        x -= 1

    log_term = log_pmf(mode)
    x = mode
    while x < high:  # upwards from the mode, the mode excluded
        # P(x+1)/P(x) = (row-x)·(col-x) / ((x+1)·(n-row-col+x+1))
        log_term += math.log((row - x) * (col - x)) - math.log((x + 1) * (n - row - col + x + 1))
        x += 1
        if log_term <= limit:
            total += math.exp(log_term - observed)
        if log_term < observed - _NEGLIGIBLE_LOG:
            break
    return min(1.0, total * math.exp(observed))


def benjamini_hochberg(p_values: list[float]) -> list[float]:
    """Benjamini–Hochberg adjusted p-values (false discovery rate), in the input's order."""
    m = len(p_values)
    if m == 0:
        return []
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 1.0
    for rank in range(m, 0, -1):
        i = order[rank - 1]
        running = min(running, p_values[i] * m / rank)
        adjusted[i] = running
    return adjusted
