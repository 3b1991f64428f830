"""The forecast: frozen snapshots as known then, rolling-origin weights, accuracy, alerts, scoping."""
import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection

from audit.models import AuditEntry
from followups.models import Opportunity, RecordChange, RecordKind, Stage, StageChange
from followups.tests.factories import at, opportunity_make
from forecasting.accuracy.measure import accuracy_measure
from forecasting.accuracy.scores import brier, wape_bias
from forecasting.models import Evidence, EvidenceReview, ForecastAlert, ForecastSnapshot, SnapshotLine
from forecasting.models_forecast import CommitAdjustment, CommitEntry
from forecasting.services.forecast_alerts import forecast_alert_scan
from forecasting.services.forecast_commit import commit_set
from forecasting.services.forecast_weights import DEFAULT_CURVE, IN_WEEK_SHARE, PRIOR_STRENGTH, band_of, in_week_fit
from forecasting.snapshots import snapshot_take
from salesflow.notifications.models import Notification

pytestmark = pytest.mark.django_db

MONDAY = at("2026-03-02T00:00:00+08:00")  # tenant time is Asia/Shanghai


def _evidence(opp, points, when, level=3):
    return Evidence.objects.create(opportunity=opp, source="note", level=level, points=points, created_at=when)


def _close(opp, outcome: str, when):
    stage = Stage.objects.get(code=outcome)
    StageChange.objects.create(opportunity=opp, from_stage=opp.stage, to_stage=stage, actor_label="test", at=when, via="test")
    Opportunity.objects.filter(pk=opp.pk).update(stage=stage, is_open=False)


def _deal(alpha, *, stage="negotiation", amount="100000", close="2026-03-10", created="2026-02-20T10:00:00+08:00"):
    opp = opportunity_make(owner=alpha.rep, stage=stage, amount=Decimal(amount), created_at=at(created))
    Opportunity.objects.filter(pk=opp.pk).update(expected_close=dt.date.fromisoformat(close))
    opp.refresh_from_db()
    return opp


def test_a_snapshot_is_frozen_once_per_week_and_a_second_run_changes_nothing(alpha):
    _deal(alpha)
    first = snapshot_take(now=at("2026-03-03T09:00:00+08:00"))
    snapshot = ForecastSnapshot.objects.get()
    lines = list(SnapshotLine.objects.values_list("opportunity_id", "amount", "credit", "category"))
    entries = AuditEntry.objects.filter(verb="forecast.snapshot_frozen").count()

    second = snapshot_take(now=at("2026-03-05T09:00:00+08:00"))

    assert (first.new, second.new) == (True, False)
    assert first.opportunities == second.opportunities == 1
    assert ForecastSnapshot.objects.get().digest == snapshot.digest and len(snapshot.digest) == 64
    assert list(SnapshotLine.objects.values_list("opportunity_id", "amount", "credit", "category")) == lines
    assert AuditEntry.objects.filter(verb="forecast.snapshot_frozen").count() == entries == 1
    assert AuditEntry.objects.get(verb="forecast.snapshot_frozen").payload["digest"] == snapshot.digest


def test_a_rebuilt_snapshot_reads_what_was_recorded_by_then_and_ignores_later_events(alpha):
    opp = _deal(alpha, stage="initial_contact", amount="100000")
    early = _evidence(opp, 6, at("2026-02-25T10:00:00+08:00"), level=2)
    # After the snapshot's instant: a stage move, an amount change, new evidence, a review of the early item.
    later = at("2026-03-04T10:00:00+08:00")
    negotiation = Stage.objects.get(code="negotiation")
    StageChange.objects.create(opportunity=opp, from_stage=opp.stage, to_stage=negotiation, actor_label="t", at=later, via="t")
    RecordChange.objects.create(record_type=RecordKind.OPPORTUNITY, record_id=opp.pk, account_id=opp.account_id,
                                field="amount", old_value="100000.00", new_value="900000.00", actor_label="t", at=later, via="t")
    _evidence(opp, 10, later, level=1)
    EvidenceReview.objects.create(evidence=early, action="downgrade", level_before=2, level_after=3, points_before=6,
                                  points_after=2, reason="r", at=later)
    Evidence.objects.filter(pk=early.pk).update(points=2, level=3, state="downgraded")
    Opportunity.objects.filter(pk=opp.pk).update(stage=negotiation, amount=Decimal("900000"), credit_score=12)

    snapshot_take(now=at("2026-03-06T12:00:00+08:00"), rebuilt=True)

    line = SnapshotLine.objects.get(opportunity_id=opp.pk)
    assert ForecastSnapshot.objects.get().taken_at == MONDAY
    assert line.stage_id == Stage.objects.get(code="initial_contact").pk
    assert line.amount == Decimal("100000")
    assert line.credit == 6  # the early item at the points it had then, the later one not at all
    assert line.stage_weight == pytest.approx(0.10)


def _in_week_history(alpha):
    """Five deals frozen on 2026-01-19 forecasting the week of 2026-01-26 (lead 1): two won within that
    week (bands 4 and 0), one won the week after, one lost, one still open; and one deal created later
    and won within that week (not in the pipeline then)."""
    deals = {}
    for name, points in (("won_in_week", 20), ("won_later", 20), ("lost", 20), ("open", 20), ("low_won", 0)):
        opp = _deal(alpha, created="2026-01-05T10:00:00+08:00", close="2026-01-28")
        if points:
            _evidence(opp, points, at("2026-01-10T10:00:00+08:00"))
        deals[name] = opp
    snapshot_take(now=at("2026-01-19T12:00:00+08:00"), rebuilt=True)
    _close(deals["won_in_week"], "won", at("2026-01-28T10:00:00+08:00"))
    _close(deals["low_won"], "won", at("2026-02-01T20:00:00+08:00"))  # Sunday evening, tenant time
    _close(deals["won_later"], "won", at("2026-02-04T10:00:00+08:00"))
    _close(deals["lost"], "lost", at("2026-01-27T10:00:00+08:00"))
    late = _deal(alpha, created="2026-01-22T10:00:00+08:00", close="2026-01-30", amount="50000")
    _close(late, "won", at("2026-01-29T10:00:00+08:00"))
    deals["late"] = late
    return deals


def test_in_week_weights_are_the_share_won_within_the_forecast_week_per_band_and_lead_shrunk_to_the_pooled_rate(alpha):
    _in_week_history(alpha)
    band = band_of(20)

    fit = in_week_fit(week=dt.date(2026, 2, 2), before=at("2026-02-02T00:00:00+08:00")).at(1)

    pooled = 2 / 5  # 5 lines at lead 1 whose week is over, 2 won within it (won later, lost, open: not)
    assert (fit.lines, fit.won) == (5, 2)
    assert (fit.bands[band].closed, fit.bands[band].won) == (4, 1)
    assert fit.bands[band].weight == pytest.approx((1 + PRIOR_STRENGTH * pooled) / (4 + PRIOR_STRENGTH))
    assert fit.bands[0].weight == pytest.approx((1 + PRIOR_STRENGTH * pooled) / (1 + PRIOR_STRENGTH))
    negotiation = Stage.objects.get(code="negotiation").pk
    assert fit.stages[negotiation].weight == pytest.approx((2 + PRIOR_STRENGTH * pooled) / (5 + PRIOR_STRENGTH))
    untouched = Stage.objects.get(code="initial_contact").pk  # no line at that stage: the pooled rate
    assert fit.stages[untouched].weight == pytest.approx(pooled)


def test_in_week_weights_use_only_weeks_already_over_and_fall_back_to_the_scaled_default(alpha):
    _in_week_history(alpha)
    band = band_of(20)

    # On 2026-01-26 the forecast week (26 Jan – 1 Feb) is not over: nothing to fit on at any lead.
    early = in_week_fit(week=dt.date(2026, 1, 26), before=at("2026-01-26T00:00:00+08:00"))

    assert early.at(1).lines == 0 and early.at(1).bands[band].closed == 0
    assert early.at(1).bands[band].weight == pytest.approx(DEFAULT_CURVE[band] * IN_WEEK_SHARE)
    negotiation = Stage.objects.get(code="negotiation")
    assert early.at(1).stages[negotiation.pk].weight == pytest.approx(negotiation.probability / 100 * IN_WEEK_SHARE)
    later = in_week_fit(week=dt.date(2026, 2, 2), before=at("2026-02-02T00:00:00+08:00"))
    assert later.at(0).lines == 0 and later.at(4).lines == 0  # the lines were at lead 1 only


def test_a_frozen_line_carries_the_weights_at_its_lead_and_the_residual_is_frozen_per_scope(alpha):
    from forecasting.models import SnapshotResidual

    _in_week_history(alpha)
    ahead = _deal(alpha, created="2026-01-25T10:00:00+08:00", close="2026-02-11")  # lead 1 on 2026-02-02
    _evidence(ahead, 20, at("2026-01-26T10:00:00+08:00"))
    overdue = _deal(alpha, created="2026-01-25T10:00:00+08:00", close="2026-01-30")  # past: lead 0

    snapshot_take(now=at("2026-02-02T12:00:00+08:00"), rebuilt=True)

    pooled = 2 / 5
    line = SnapshotLine.objects.get(snapshot__week=dt.date(2026, 2, 2), opportunity_id=ahead.pk)
    assert line.lead == 1
    assert line.credit_weight == pytest.approx((1 + PRIOR_STRENGTH * pooled) / (4 + PRIOR_STRENGTH))
    assert line.stage_fit_weight == pytest.approx((2 + PRIOR_STRENGTH * pooled) / (5 + PRIOR_STRENGTH))
    assert line.stage_weight == pytest.approx(0.8)  # Stage.probability as typed
    past = SnapshotLine.objects.get(snapshot__week=dt.date(2026, 2, 2), opportunity_id=overdue.pk)
    assert past.lead == 0 and past.credit_weight == pytest.approx(DEFAULT_CURVE[0] * IN_WEEK_SHARE)
    # Won in the week of 26 Jan by a deal no line of 19 Jan forecast for it: 50,000 over the one week
    # with a snapshot a week before it. Deals the pipeline held (won within the week or not) are not residual.
    snapshot = ForecastSnapshot.objects.get(week=dt.date(2026, 2, 2))
    residual = {(r.level, r.key, r.lead): r.amount for r in SnapshotResidual.objects.filter(snapshot=snapshot)}
    team = alpha.rep.member.team
    assert residual == {("company", None, 1): Decimal("50000.00"), ("team", team.pk, 1): Decimal("50000.00"),
                        ("region", team.region_id, 1): Decimal("50000.00"), ("rep", alpha.rep.pk, 1): Decimal("50000.00")}
    assert ForecastSnapshot.objects.get(week=dt.date(2026, 1, 19)).residuals.count() == 0  # nothing before it


def test_a_rebuilt_residual_counts_a_won_deal_at_the_amount_recorded_by_then(alpha):
    from forecasting.models import SnapshotResidual

    late = _in_week_history(alpha)["late"]  # won 29 Jan at 50,000, never in a snapshot's pipeline
    edited = at("2026-02-10T10:00:00+08:00")  # after the rebuilt week's instant
    RecordChange.objects.create(record_type=RecordKind.OPPORTUNITY, record_id=late.pk, account_id=late.account_id,
                                field="amount", old_value="50000.00", new_value="80000.00", actor_label="t", at=edited,
                                via="t")
    Opportunity.objects.filter(pk=late.pk).update(amount=Decimal("80000"))

    snapshot_take(now=at("2026-02-02T12:00:00+08:00"), rebuilt=True)
    snapshot_take(now=at("2026-02-16T12:00:00+08:00"), rebuilt=True)

    def company(week):
        return SnapshotResidual.objects.get(snapshot__week=week, level="company", lead=1).amount

    assert company(dt.date(2026, 2, 2)) == Decimal("50000.00")  # as known on 2 Feb
    # Read after the edit: 80,000 spread over the two past weeks that had a snapshot a week before them.
    assert company(dt.date(2026, 2, 16)) == Decimal("40000.00")


def test_wape_bias_and_brier_on_hand_computed_numbers():
    wape, bias = wape_bias([(100.0, 80.0), (50.0, 70.0), (30.0, 0.0)])
    # |20| + |−20| + |30| = 70 over 150 won; (20 − 20 + 30) = 30 over 150
    assert wape == pytest.approx(70 / 150) and bias == pytest.approx(30 / 150)
    assert wape_bias([(10.0, 0.0)]) == (None, None)
    assert brier([(0.8, 1), (0.3, 0)]) == pytest.approx((0.04 + 0.09) / 2)
    assert brier([]) is None


def test_accuracy_reads_the_snapshot_frozen_lead_weeks_before_the_week(alpha):
    opp = _deal(alpha)  # negotiation: stage probability 80 %, no credit: the default weight of band 0
    snapshot_take(now=MONDAY, rebuilt=True)  # week of 2026-03-02, one week before the close week
    _close(opp, "won", at("2026-03-11T15:00:00+08:00"))

    result = accuracy_measure(lead=1, now=at("2026-03-18T10:00:00+08:00"))

    stage, credit = result.scores["stage"], result.scores["credit"]
    assert stage.periods == 1 and stage.rows == [(dt.date(2026, 3, 9), 80000.0, 100000.0)]
    assert stage.wape == pytest.approx(0.2) and stage.bias == pytest.approx(-0.2)
    assert credit.rows[0][1] == pytest.approx(100000 * DEFAULT_CURVE[0] * IN_WEEK_SHARE)  # no history yet
    assert result.brier_stage == pytest.approx((0.8 - 1) ** 2)
    assert accuracy_measure(lead=4, now=at("2026-03-18T10:00:00+08:00")).scores["stage"].periods == 0


def test_the_commands_print_the_contract_lines(alpha):
    opp = _deal(alpha)
    CommitEntry.objects.create(opportunity=opp, category="commit", period=dt.date(2026, 3, 9), at=at("2026-02-27T10:00:00+08:00"))
    out = io.StringIO()
    call_command("forecast_snapshot", schema="alpha", now="2026-03-02T09:00:00+08:00", stdout=out)
    call_command("forecast_snapshot", schema="alpha", now="2026-03-02T10:00:00+08:00", stdout=out)
    first, second = out.getvalue().strip().splitlines()
    assert first == "forecast snapshot alpha 2026-W10: opportunities=1 weighted=1750.00 committed=100000.00 new=1"
    assert second == first.replace("new=1", "new=0")

    _close(opp, "won", at("2026-03-11T15:00:00+08:00"))
    out = io.StringIO()
    call_command("forecast_accuracy", schema="alpha", lead_weeks=1, now="2026-03-18T10:00:00+08:00", stdout=out)
    lines = out.getvalue().strip().splitlines()
    assert [re.match(r"forecast accuracy alpha method=(\w+) lead=1w: periods=\d+ wape=\S+% bias=\S+%$", line).group(1)
            for line in lines] == ["credit", "stage", "commit", "runrate"]
    assert lines[1] == "forecast accuracy alpha method=stage lead=1w: periods=1 wape=20.0% bias=-20.0%"
    assert lines[2] == "forecast accuracy alpha method=commit lead=1w: periods=1 wape=0.0% bias=+0.0%"


def test_the_warning_alert_is_raised_once_per_week_and_scope(alpha):
    from django.utils import timezone

    now = timezone.now()
    opp = _deal(alpha, close=now.date().isoformat(), created=(now - dt.timedelta(days=3)).isoformat())
    commit_set(actor=alpha.rep, opportunity=opp, category="commit")

    first = forecast_alert_scan(now=now)
    notified = Notification.objects.count()
    second = forecast_alert_scan(now=now)

    team = alpha.rep.member.team
    assert first.raised >= 1 and second.raised == 0
    assert ForecastAlert.objects.filter(scope="team", scope_id=team.pk).count() == 1
    assert Notification.objects.count() == notified and notified >= 1
    assert AuditEntry.objects.filter(verb="forecast.below_warning").count() == first.raised


def test_board_and_drill_down_are_scoped(alpha, client_for):
    from django.utils import timezone

    now = timezone.now()
    opp = _deal(alpha, close=now.date().isoformat(), created=(now - dt.timedelta(days=3)).isoformat())
    week = (opp.expected_close - dt.timedelta(days=opp.expected_close.weekday())).isoformat()
    team = alpha.rep.member.team

    assert client_for(alpha, alpha.rep).get("/forecast/board/").status_code == 403
    assert client_for(alpha, alpha.rep).get(f"/forecast/board/week/?week={week}").status_code == 403
    manager = client_for(alpha, alpha.manager)
    assert manager.get("/forecast/board/").status_code == 200
    assert opp.name in manager.get(f"/forecast/board/week/?week={week}").content.decode()
    other = client_for(alpha, alpha.other_manager)
    assert other.get(f"/forecast/board/?team={team.pk}").status_code == 404
    assert other.get(f"/forecast/board/week/?week={week}&team={team.pk}").status_code == 404
    assert opp.name not in other.get(f"/forecast/board/week/?week={week}").content.decode()
    assert other.post("/forecast/adjust/", {"team": team.pk, "week": week, "amount": "1", "note": "x"}).status_code == 404
    assert not CommitAdjustment.objects.exists()
    assert other.post(f"/forecast/commits/{opp.pk}/", {"category": "commit"}).status_code == 404
    assert not CommitEntry.objects.exists()


def test_commit_and_adjustment_are_kept_and_audited(alpha, client_for):
    from django.utils import timezone

    now = timezone.now()
    opp = _deal(alpha, close=(now.date() + dt.timedelta(days=7)).isoformat(), created=(now - dt.timedelta(days=3)).isoformat())
    week = opp.expected_close - dt.timedelta(days=opp.expected_close.weekday())
    client_for(alpha, alpha.rep).post(f"/forecast/commits/{opp.pk}/", {"category": "commit"})
    entry = CommitEntry.objects.get()
    assert (entry.category, entry.period) == ("commit", week)
    team = alpha.rep.member.team
    response = client_for(alpha, alpha.manager).post(
        "/forecast/adjust/", {"team": team.pk, "week": week.isoformat(), "amount": "50000", "note": "客户预算冻结"})
    assert response.status_code == 302
    adjustment = CommitAdjustment.objects.get()
    assert adjustment.rollup == Decimal("100000") and adjustment.amount == Decimal("50000")
    entry = AuditEntry.objects.get(verb="forecast.commit_adjusted")
    assert entry.reason == "客户预算冻结" and connection.schema_name == "alpha"
    page = client_for(alpha, alpha.manager).get(f"/forecast/board/?team={team.pk}").content.decode()
    assert "客户预算冻结" in page


def test_the_demo_history_fills_26_weeks_recorded_in_the_past(alpha):
    import random

    from django.utils import timezone

    from forecasting.demo_forecast import forecast_history_seed
    from forecasting.snapshots import history_rebuild

    now = timezone.now()
    forecast_history_seed(rng=random.Random(3), count=150, signal=0.6, now=now)
    results = history_rebuild(now=now, weeks=26)

    assert len(results) == 26 and all(r.new for r in results)
    assert ForecastSnapshot.objects.count() == 26 and ForecastSnapshot.objects.filter(rebuilt=True).count() == 26
    for model, field in ((StageChange, "at"), (RecordChange, "at"), (Evidence, "created_at"), (CommitEntry, "at")):
        assert model.objects.exists() and not model.objects.filter(**{f"{field}__gt": now}).exists(), model
    assert Stage.objects.filter(code="won", opportunities__isnull=False).exists()
    assert accuracy_measure(lead=1, now=now).scores["credit"].periods == 25
    assert history_rebuild(now=now, weeks=26)[0].new is False


def test_the_accuracy_page_shows_stage_fitted_like_credit_beside_the_typed_stage_and_the_board_the_residual(alpha, client_for):
    from django.utils import timezone

    now = timezone.now()
    monday = now.date() - dt.timedelta(days=now.date().weekday())
    deals = [_deal(alpha, created=(now - dt.timedelta(weeks=4)).isoformat(), close=(monday - dt.timedelta(weeks=2)).isoformat())
             for _ in range(2)]
    snapshot_take(now=now - dt.timedelta(weeks=3), rebuilt=True)
    _close(deals[0], "won", now - dt.timedelta(weeks=2) + dt.timedelta(hours=1) - dt.timedelta(days=now.date().weekday()))
    late = _deal(alpha, created=(now - dt.timedelta(weeks=2, days=now.date().weekday())).isoformat(),
                 close=(monday - dt.timedelta(weeks=2)).isoformat(), amount="70000")
    _close(late, "won", now - dt.timedelta(weeks=2) + dt.timedelta(hours=2) - dt.timedelta(days=now.date().weekday()))
    snapshot_take(now=now - dt.timedelta(weeks=1), rebuilt=True)
    snapshot_take(now=now)

    page = client_for(alpha, alpha.manager).get("/forecast/accuracy/?lead=1").content.decode()
    assert 'class="method-stage_fitted"' in page and 'class="method-stage"' in page  # the tenant's language: zh-hans
    assert "阶段（与信用同法拟合）" in page and "阶段概率（按录入值）" in page
    board = client_for(alpha, alpha.manager).get("/forecast/board/").content.decode()
    assert "尚未进入管道" in board and "各信用分段、各提前周数的权重" in board


def test_a_snapshot_frozen_before_in_week_weights_reads_as_it_was(alpha):
    opp = _deal(alpha)  # negotiation, 100,000, closing in the week of 2026-03-09
    snapshot_take(now=MONDAY, rebuilt=True)
    # As a pre-migration snapshot: an eventual-win weight, no lead, no fitted stage, no weights, no residual.
    SnapshotLine.objects.update(lead=None, stage_fit_weight=None, credit_weight=0.4)
    ForecastSnapshot.objects.update(weights=None)
    _close(opp, "won", at("2026-03-11T15:00:00+08:00"))

    result = accuracy_measure(lead=1, now=at("2026-03-18T10:00:00+08:00"))

    assert result.scores["credit"].rows == [(dt.date(2026, 3, 9), pytest.approx(40000.0), 100000.0)]
    assert result.scores["stage_fitted"].periods == 0  # no fitted-stage figure for it, not a zero forecast
    assert result.brier_credit == pytest.approx((0.4 - 1) ** 2)  # against the eventual outcome, as before
