"""The statistics against reference values computed with SciPy 1.17 (not a dependency of the app):
fisher_exact(table).pvalue / .statistic, binomtest(k, n).proportion_ci(method="wilson"),
false_discovery_control(p)."""
import math

import pytest

from audit.attribution.statistics import benjamini_hochberg, fisher_exact_p, odds_ratio, wilson_interval


@pytest.mark.parametrize(("table", "expected"), [
    ((8, 2, 1, 5), 0.034965034965034975),
    ((3, 1, 1, 3), 0.48571428571428565),
    ((12, 5, 3, 20), 0.0002999894216743347),
    ((40, 10, 25, 25), 0.0030520593364333462),
    ((0, 12, 9, 4), 0.00045766590389016015),
    ((7, 3, 9, 11), 0.26023654839247035),
    ((250, 80, 120, 160), 9.276656258333188e-17),
    ((2000, 1500, 1200, 1800), 2.729875648742983e-43),
    ((30000, 20000, 25000, 25000), 5.766875637041727e-222),
    ((1, 0, 0, 1), 1.0),
    ((5, 0, 0, 0), 1.0),
])
def test_fisher_exact_matches_scipy(table, expected):
    assert fisher_exact_p(*table) == pytest.approx(expected, rel=1e-9)


def test_fisher_exact_is_symmetric_in_rows_and_columns():
    assert fisher_exact_p(12, 5, 3, 20) == pytest.approx(fisher_exact_p(3, 20, 12, 5), rel=1e-12)
    assert fisher_exact_p(12, 5, 3, 20) == pytest.approx(fisher_exact_p(12, 3, 5, 20), rel=1e-12)


@pytest.mark.parametrize(("successes", "trials", "low", "high"), [
    (8, 10, 0.4901624715366418, 0.9433178485456248),
    (0, 20, 0.0, 0.16112515805281935),
    (20, 20, 0.8388748419471808, 1.0),
    (73, 100, 0.63567883232055, 0.8073041585042366),
    (1, 3, 0.06149194472039626, 0.7923403991979523),
])
def test_wilson_interval_matches_scipy(successes, trials, low, high):
    interval = wilson_interval(successes, trials)
    assert (interval.low, interval.high) == (pytest.approx(low, abs=1e-12), pytest.approx(high, abs=1e-12))


def test_wilson_interval_of_nothing_is_none():
    assert wilson_interval(0, 0) is None


def test_odds_ratio_is_plain_without_empty_cells_and_corrected_with_them():
    assert odds_ratio(8, 2, 1, 5) == 20.0
    assert odds_ratio(40, 10, 25, 25) == 4.0
    # Haldane–Anscombe: (2.5 × 3.5) / (0.5 × 0.5)
    assert odds_ratio(2, 0, 0, 3) == 35.0
    assert math.isfinite(odds_ratio(0, 12, 9, 4))
    assert odds_ratio(0, 0, 3, 4) is None  # nobody had the trait: nothing to compare


def test_benjamini_hochberg_matches_scipy():
    adjusted = benjamini_hochberg([0.01, 0.04, 0.03, 0.2, 0.005])
    assert adjusted == pytest.approx([0.025, 0.05, 0.05, 0.2, 0.025], abs=1e-12)
    assert benjamini_hochberg([]) == []
