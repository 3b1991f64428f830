"""The board's bars against the direct computation: every open deal of the coming weeks, one by one."""
import datetime as dt
import random
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.db.models import F, Q, Sum
from django.db.models.functions import Coalesce

from followups.models import Opportunity, Stage
from followups.tests.factories import opportunity_make
from forecasting.models_forecast import CommitCurrent
from forecasting.services.forecast_board import (
    WEEKS_AHEAD, BoardFit, board_weeks, week_opportunities, with_forecast,
)
from forecasting.services.forecast_commit import commit_set
from forecasting.services.forecast_weights import BANDS, MAX_LEAD, Band, LeadFit, WeekFit, band_of

pytestmark = pytest.mark.django_db

FIRST_WEEK = dt.date(2026, 3, 2)  # a Monday
CENT = Decimal("0.01")


def _fit() -> BoardFit:
    """Weights that differ in every (lead, band) cell, rounded to 6 places like a fitted snapshot's."""
    leads = [
        LeadFit(lead, 0, 0, [Band(b, 0, 0, 0.1, round(0.0123457 + 0.0171 * lead + 0.0713 * b, 6)) for b in range(BANDS)], {})
        for lead in range(MAX_LEAD + 1)
    ]
    return BoardFit(WeekFit(FIRST_WEEK, leads), snapshot_id=None)


def _deals(alpha, count: int, rng: random.Random) -> list[Opportunity]:
    """Open deals over the board's weeks and around them: overdue, beyond the horizon, undated; credit on
    and around the band edges; amounts with cents."""
    stages = list(Stage.objects.filter(outcome="open"))
    credits = [0, 4, 5, 9, 10, 14, 15, 24, 25, 29, 30, 39, 40, 41, 77]
    deals = []
    for index in range(count):
        owner = alpha.rep if index % 3 else alpha.other_rep
        opp = opportunity_make(owner=owner, stage=rng.choice(stages).code, amount=Decimal(rng.randint(100, 9_999_999)) / 100)
        close = None if index % 17 == 5 else FIRST_WEEK + dt.timedelta(days=rng.randint(-30, 7 * WEEKS_AHEAD + 10))
        Opportunity.objects.filter(pk=opp.pk).update(expected_close=close, credit_score=rng.choice(credits))
        opp.refresh_from_db()
        deals.append(opp)
    return deals


def _commit_some(alpha, deals, rng: random.Random) -> None:
    """Commits for the deal's week, stale ones (the close date moved after), other categories, closed deals."""
    for opp in deals:
        if opp.expected_close is None or rng.random() < 0.3:
            continue
        commit_set(actor=alpha.admin, opportunity=opp, category=rng.choice(["commit", "commit", "best_case", "pipeline"]))
        roll = rng.random()
        if roll < 0.15:  # moved a week later after committing: the commit no longer counts
            Opportunity.objects.filter(pk=opp.pk).update(expected_close=opp.expected_close + dt.timedelta(days=7))
        elif roll < 0.25:
            Opportunity.objects.filter(pk=opp.pk).update(is_open=False)


def _expected(opportunities, fit: BoardFit, *, rounded=True) -> list[tuple]:
    """(week, count, weighted, stage-weighted, committed) per bar, summed deal by deal in exact decimals and
    rounded half up to the cent (as the frozen roll-ups round the same sums)."""
    current = {c.opportunity_id: c for c in CommitCurrent.objects.all()}
    last_week = FIRST_WEEK + dt.timedelta(weeks=WEEKS_AHEAD)
    bars = {offset: [0, Decimal(0), Decimal(0), Decimal(0)] for offset in range(WEEKS_AHEAD)}
    for opp in opportunities.select_related("stage"):
        if not opp.is_open or opp.expected_close is None or opp.expected_close >= last_week:
            continue
        lead = max((opp.expected_close - FIRST_WEEK).days, 0) // 7
        week = FIRST_WEEK + dt.timedelta(weeks=lead)
        bar = bars[lead]
        bar[0] += 1
        bar[1] += opp.amount * Decimal(repr(fit.fit.at(lead).bands[band_of(opp.credit_score)].weight))
        bar[2] += opp.amount * opp.stage.probability / 100
        commit = current.get(opp.pk)
        if commit and commit.category == "commit" and commit.period == week:
            bar[3] += opp.amount
    cents = (lambda value: value.quantize(CENT, ROUND_HALF_UP)) if rounded else (lambda value: value)
    return [(FIRST_WEEK + dt.timedelta(weeks=offset), n, cents(w), cents(s), c) for offset, (n, w, s, c) in bars.items()]


def _shown(bars) -> list[tuple]:
    return [(bar.week, bar.count, bar.weighted, bar.stage_weighted, bar.committed) for bar in bars]


def _before(opportunities, fit: BoardFit) -> list[tuple]:
    """The statement the board ran before (one row per week and band, float sums, the week as a timestamp)."""
    last_week = FIRST_WEEK + dt.timedelta(weeks=WEEKS_AHEAD)
    rows = (
        with_forecast(opportunities, first_week=FIRST_WEEK).filter(expected_close__lt=last_week).order_by()
        .values("week", "band")
        .annotate(amount_sum=Sum("amount_float"), stage=Sum(F("amount_float") * F("stage_weight")),
                  committed=Coalesce(Sum("amount", filter=Q(commit_category="commit", commit_period=F("week"))), Decimal(0)))
    )
    bars = {}
    for r in rows:
        week = r["week"].date() if isinstance(r["week"], dt.datetime) else r["week"]
        lead = (week - FIRST_WEEK).days // 7
        bar = bars.setdefault(week, [0.0, 0.0, Decimal(0)])
        bar[0] += r["amount_sum"] * fit.fit.at(lead).bands[r["band"]].weight
        bar[1] += r["stage"]
        bar[2] += r["committed"]
    money = lambda value: Decimal(str(value)).quantize(CENT)  # noqa: E731
    return [(week, money(w), money(s), c) for week, (w, s, c) in sorted(bars.items())]


def test_the_bars_equal_the_deal_by_deal_sums_for_the_whole_tenant_and_a_rep(alpha):
    rng = random.Random(11)
    deals = _deals(alpha, 45, rng)
    _commit_some(alpha, deals, rng)
    fit = _fit()

    everyone = board_weeks(Opportunity.objects.all(), now=None, first_week=FIRST_WEEK, board_fit=fit)
    one_rep = Opportunity.objects.filter(owner=alpha.other_rep)
    rep = board_weeks(one_rep, now=None, first_week=FIRST_WEEK, board_fit=fit)

    assert _shown(everyone) == _expected(Opportunity.objects.all(), fit)
    assert _shown(rep) == _expected(one_rep, fit)
    assert sum(bar.count for bar in everyone) > sum(bar.count for bar in rep) > 0
    assert any(bar.committed for bar in everyone) and everyone[0].count > 0  # overdue deals sit in this week


def test_the_bars_are_the_figures_the_board_showed_before_but_at_a_half_cent(alpha):
    """Before, per-row float sums rounded a sum that lies exactly on a half cent either way (float noise);
    now exact sums round it half up. Everywhere else the figures are the same to the cent."""
    rng = random.Random(5)
    _commit_some(alpha, _deals(alpha, 40, rng), rng)
    fit = _fit()

    bars = board_weeks(Opportunity.objects.all(), now=None, first_week=FIRST_WEEK, board_fit=fit)

    exact = {week: (w, s) for week, _, w, s, _ in _expected(Opportunity.objects.all(), fit, rounded=False)}
    before = _before(Opportunity.objects.all(), fit)
    assert [bar.week for bar in bars if bar.count] == [week for week, *_ in before]
    for bar, (_, weighted, stage_weighted, committed) in zip([bar for bar in bars if bar.count], before):
        assert bar.committed == committed
        for new, old, true in ((bar.weighted, weighted, exact[bar.week][0]),
                               (bar.stage_weighted, stage_weighted, exact[bar.week][1])):
            assert new == old or (abs(new - old) == CENT and true % CENT == CENT / 2), (bar.week, new, old, true)


def test_each_bar_counts_the_deals_its_drill_down_lists(alpha):
    rng = random.Random(3)
    _deals(alpha, 30, rng)
    fit = _fit()

    bars = board_weeks(Opportunity.objects.all(), now=None, first_week=FIRST_WEEK, board_fit=fit)

    listed = [week_opportunities(Opportunity.objects.all(), week=bar.week, first_week=FIRST_WEEK, board_fit=fit).count()
              for bar in bars]
    assert [bar.count for bar in bars] == listed and sum(listed) > 0
