"""The three figures against a hand count on a small book (audit/tests/health/conftest.py)."""
import datetime as dt

from audit.health.figures import REP, SCOPE, TEAM_LEVEL, figures_count
from audit.health.periods import recent_months, rolling
from audit.health.selectors import leads_waited_longest, opportunities_lacking_key_touches

from .conftest import NOW, SHANGHAI


def test_the_rep_figures_match_a_hand_count(alpha, small_book):
    counted = figures_count(user_ids=[alpha.rep.pk], periods=[rolling(NOW)], now=NOW)
    mine = counted.get(REP, alpha.rep.pk, 0)
    # 4 touches (the correction and the touch before the window do not count) on 2 customers.
    assert (mine.touches, mine.customers, mine.density) == (4, 2, 2.0)
    # 2 open opportunities; only 甲影像 had every key person touched; the lost one closed before.
    assert (mine.open_opportunities, mine.covered_opportunities, mine.depth) == (2, 1, 50.0)
    # 1 h, 3 h, 5 h and 10 h still waiting: median 4 h.
    assert (mine.leads, mine.median_seconds, mine.timeliness_hours) == (4, 4 * 3600, 4.0)


def test_the_scope_counts_its_own_rows_and_teams_roll_up(alpha, small_book):
    counted = figures_count(user_ids=[alpha.rep.pk, alpha.other_rep.pk], periods=[rolling(NOW)], now=NOW)
    scope = counted.get(SCOPE, None, 0)
    assert (scope.touches, scope.customers, scope.open_opportunities, scope.covered_opportunities) == (5, 3, 3, 2)
    team_a = alpha.rep.member.team_id
    assert counted.get(TEAM_LEVEL, team_a, 0).touches == 4


def test_a_month_counts_only_its_own_days(alpha, small_book):
    months = recent_months(NOW, tz=SHANGHAI)
    assert [p.key for p in months] == ["2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11"]
    counted = figures_count(user_ids=[alpha.rep.pk], periods=months, now=NOW)
    october, november = counted.get(SCOPE, None, 4), counted.get(SCOPE, None, 5)
    # October: the touches of Oct 6 (K3, before the rolling window) and Oct 31 (K1).
    assert (october.touches, october.customers) == (2, 2)
    assert (november.touches, november.customers) == (3, 2)
    # In October B's key person was touched, A's K2 was not: one of two covered.
    assert (october.open_opportunities, october.covered_opportunities) == (2, 1)


def test_healthy_is_judged_against_the_tenant_thresholds(alpha, small_book):
    from audit.health.figures import Thresholds
    from decimal import Decimal

    mine = figures_count(user_ids=[alpha.rep.pk], periods=[rolling(NOW)], now=NOW).get(REP, alpha.rep.pk, 0)
    assert mine.below(Thresholds(Decimal("4.2"), Decimal("78"), Decimal("3.7"))) == ["density", "depth", "timeliness"]
    assert mine.below(Thresholds(Decimal("2"), Decimal("50"), Decimal("4"))) == []


def test_the_drill_downs_name_the_records_behind_the_figures(alpha, small_book):
    total, rows = opportunities_lacking_key_touches(user_ids=[alpha.rep.pk], period=rolling(NOW))
    assert total == 1
    assert [(r.opportunity, r.untouched) for r in rows] == [("乙试剂", ["丁院长"])]
    waited = leads_waited_longest(user_ids=[alpha.rep.pk], period=rolling(NOW), now=NOW)
    assert [round(w.waited_seconds / 3600) for w in waited] == [10, 5, 3, 1]
    assert waited[0].first_touch_at is None


def test_nobody_in_scope_counts_nothing(alpha, small_book):
    assert figures_count(user_ids=[], periods=[rolling(NOW)], now=NOW).get(SCOPE, None, 0).touches == 0
    assert opportunities_lacking_key_touches(user_ids=[], period=rolling(NOW - dt.timedelta(days=1))) == (0, [])
