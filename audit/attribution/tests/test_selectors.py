"""The counts behind the page against a hand count on a small fixture."""
import datetime as dt

import pytest
from django.utils import timezone

from audit.attribution.statistics import benjamini_hochberg
from audit.attribution.selectors import (
    ACTION,
    ANY_KEY_PERSON,
    CHANNEL,
    COMBINATION,
    COVERAGE,
    FIRST_TOUCH,
    ROLE,
    TEMPLATE,
    attribution_sides,
    closed_deals,
)
from followups.models import ActionKey, ActionTemplate, FollowUpKind, Opportunity
from leads.tests.factories import lead_submit
from salesflow.org.models import Region

from .factories import closed_deal, touch

START = timezone.now() - dt.timedelta(days=90)


def _row(side, dimension, code):
    return next(c for c in side.comparisons if (c.dimension, c.code) == (dimension, code))


def _table(side, dimension, code):
    row = _row(side, dimension, code)
    return row.won_with, row.lost_with, row.won_without, row.lost_without


@pytest.fixture
def east(alpha):
    """Five closed deals of the rep in 上海 (inside 华东区), counted by hand in the tests:

    won1   CIO visited day 2 (a demo), purchasing called day 3          channel web form
    won2   CIO called day 5 (demo), then a quote on day 8               channel API
    lost1  purchasing called day 1; closed day 12
    lost2  purchasing on WeChat day 3; CIO only on day 40 (outside 30 days); closed day 50
    lost3  closed day 10; CIO touched day 11, after it closed
    """
    rep = alpha.rep
    web = lead_submit(channel="web_form", phone="13700000001").lead
    api = lead_submit(channel="api", phone="13700000002").lead
    won1 = closed_deal(owner=rep, won=True, created_at=START, days_open=20)
    won2 = closed_deal(owner=rep, won=True, created_at=START, days_open=25)
    Opportunity.objects.filter(pk=won1.pk).update(source_lead_id=web.pk)
    Opportunity.objects.filter(pk=won2.pk).update(source_lead_id=api.pk)
    touch(won1, day=2, roles=["cio"], kind=FollowUpKind.VISIT, action=ActionKey.DEMO)
    touch(won1, day=3, roles=["purchasing"])
    touch(won2, day=5, roles=["cio"], action=ActionKey.DEMO)
    touch(won2, day=8, action=ActionKey.QUOTE, template=ActionTemplate.objects.get(code="quote_sent"))
    lost1 = closed_deal(owner=rep, won=False, created_at=START, days_open=12)
    touch(lost1, day=1, roles=["purchasing"])
    lost2 = closed_deal(owner=rep, won=False, created_at=START, days_open=50)
    touch(lost2, day=3, roles=["purchasing"], kind=FollowUpKind.WECHAT)
    touch(lost2, day=40, roles=["cio"], action=ActionKey.DEMO)
    lost3 = closed_deal(owner=rep, won=False, created_at=START, days_open=10)
    touch(lost3, day=11, roles=["cio"])
    return {"won1": won1, "won2": won2, "lost1": lost1, "lost2": lost2, "lost3": lost3}


@pytest.fixture
def north(alpha):
    """Two closed deals of the rep of another team (华北区), both with the CIO touched."""
    won = closed_deal(owner=alpha.other_rep, won=True, created_at=START, days_open=20)
    lost = closed_deal(owner=alpha.other_rep, won=False, created_at=START, days_open=20)
    touch(won, day=1, roles=["cio"])
    touch(lost, day=1, roles=["cio"])
    return {"won": won, "lost": lost}


def _sides(user, left=None, right=None, window=30):
    return attribution_sides(deals=closed_deals(user=user), left_region_id=left, right_region_id=right,
                             window_days=window)


def test_the_numbers_match_a_hand_count(alpha, east, north):
    shanghai = Region.objects.get(name="上海")
    [side] = _sides(alpha.admin, left=shanghai.pk)
    assert (side.won, side.lost) == (2, 3)
    assert _table(side, ROLE, "cio") == (2, 0, 0, 3)
    assert _table(side, ROLE, "purchasing") == (1, 2, 1, 1)
    assert _table(side, ROLE, ANY_KEY_PERSON) == (2, 2, 0, 1)
    assert _table(side, ROLE, "finance") == (0, 0, 2, 3)  # never touched, still listed
    assert _table(side, ACTION, "demo") == (2, 0, 0, 3)
    assert _table(side, ACTION, "quote") == (1, 0, 1, 3)
    quote = ActionTemplate.objects.get(code="quote_sent")
    assert _table(side, TEMPLATE, str(quote.pk)) == (1, 0, 1, 3)
    assert _table(side, CHANNEL, "web_form")[:2] == (1, 0)
    assert _table(side, CHANNEL, "")[:2] == (0, 3)
    assert _table(side, FIRST_TOUCH, "visit")[:2] == (1, 0)
    assert _table(side, FIRST_TOUCH, "call")[:2] == (1, 1)
    assert _table(side, FIRST_TOUCH, "wechat")[:2] == (0, 1)
    assert _table(side, FIRST_TOUCH, "")[:2] == (0, 1)  # lost3: its only touch came after it closed
    assert _table(side, COMBINATION, "demo+quote")[:2] == (1, 0)
    assert _table(side, COMBINATION, "demo")[:2] == (1, 0)
    assert _table(side, COMBINATION, "")[:2] == (0, 3)
    # Key people of each chain: CIO and purchasing. won1 touched both; won2, lost1, lost2 one; lost3 none.
    assert _table(side, COVERAGE, "all")[:2] == (1, 0)
    assert _table(side, COVERAGE, "some")[:2] == (1, 2)
    assert _table(side, COVERAGE, "none")[:2] == (0, 1)
    cio = _row(side, ROLE, "cio")
    assert (cio.rate_with, cio.rate_without) == (1.0, 0.0)
    assert cio.odds_ratio == 35.0  # (2.5 × 3.5) / (0.5 × 0.5)
    assert cio.p == pytest.approx(0.1)  # 1 / C(5, 2): the only table as extreme is the observed one
    assert cio.lost_lacking == 1.0 and cio.share_of_won == 1.0
    assert cio.too_small and cio.separation == 1.0


def test_the_window_cuts_touches_after_day_30_and_after_closing(alpha, east):
    shanghai = Region.objects.get(name="上海")
    [thirty] = _sides(alpha.admin, left=shanghai.pk, window=30)
    [sixty] = _sides(alpha.admin, left=shanghai.pk, window=60)
    [seven] = _sides(alpha.admin, left=shanghai.pk, window=7)
    assert _table(thirty, ROLE, "cio")[:2] == (2, 0)
    assert _table(sixty, ROLE, "cio")[:2] == (2, 1)  # lost2's day-40 touch; lost3's after-close touch never counts
    assert _table(sixty, ACTION, "demo")[:2] == (2, 1)
    assert _table(seven, ACTION, "quote")[:2] == (0, 0)  # the quote came on day 8
    assert _table(seven, ROLE, "cio")[:2] == (2, 0)


def test_a_correction_is_not_a_second_touch(alpha, east):
    original = east["lost1"].followups.get()
    touch(east["lost1"], day=0.5, roles=["cio"], corrects=original, kind=FollowUpKind.MEETING)
    [side] = _sides(alpha.admin, left=Region.objects.get(name="上海").pk)
    assert _table(side, ROLE, "cio")[:2] == (2, 0)
    assert _table(side, FIRST_TOUCH, "call")[:2] == (1, 1)
    assert (FIRST_TOUCH, "meeting") not in {(c.dimension, c.code) for c in side.comparisons}


def test_two_regions_side_by_side_and_a_parent_region_includes_its_sub_regions(alpha, east, north):
    east_china, north_china = Region.objects.get(name="华东区"), Region.objects.get(name="华北区")
    left, right = _sides(alpha.admin, left=east_china.pk, right=north_china.pk)
    assert (left.won, left.lost, right.won, right.lost) == (2, 3, 1, 1)
    assert _table(right, ROLE, "cio") == (1, 1, 0, 0)
    [everyone] = _sides(alpha.admin)
    assert (everyone.won, everyone.lost) == (3, 4)


def test_the_scope_is_the_viewers(alpha, east, north):
    [manager] = _sides(alpha.manager)
    assert (manager.won, manager.lost) == (2, 3)
    [other] = _sides(alpha.other_manager)
    assert (other.won, other.lost) == (1, 1)


def test_open_deals_are_not_counted(alpha, east):
    closed_deal(owner=alpha.rep, won=True, created_at=START, days_open=5)
    Opportunity.objects.filter(pk=east["won1"].pk).update(is_open=True)
    [side] = _sides(alpha.admin)
    assert (side.won, side.lost) == (2, 3)


def test_benjamini_hochberg_runs_over_every_comparison_of_a_side(alpha, east):
    [side] = _sides(alpha.admin)
    assert [c.q for c in side.comparisons] == benjamini_hochberg([c.p for c in side.comparisons])
    assert {c.dimension for c in side.comparisons} >= {ROLE, ACTION, CHANNEL, FIRST_TOUCH, COVERAGE, COMBINATION}


def test_traits_are_sorted_by_separation_with_too_small_ones_last(alpha):
    for number in range(25):
        won = closed_deal(owner=alpha.rep, won=True, created_at=START, days_open=20)
        lost = closed_deal(owner=alpha.rep, won=False, created_at=START, days_open=20)
        touch(won, day=1, roles=[role for role, hit in (("cio", number < 20), ("purchasing", number < 13)) if hit])
        touch(lost, day=1, roles=[role for role, hit in (("cio", number >= 20), ("purchasing", number < 12)) if hit])
    [side] = _sides(alpha.admin)
    rows = side.traits()
    assert [(r.dimension, r.code) for r in rows[:2]] == [(ROLE, "cio"), (ROLE, "purchasing")]
    assert _row(side, ROLE, "cio").separation == pytest.approx(0.6)
    assert not any(r.too_small for r in rows[:2]) and all(r.too_small for r in rows[2:])
