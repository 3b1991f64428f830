"""Targets: the roll-up check, live attainment, expected share, editing in scope, audit."""
import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection

from audit.models import AuditEntry
from followups.workdays import WorkCalendar
from forecasting.amounts import AmountError, parse_amount
from forecasting.models import PeriodKind, Target, TargetLevel
from forecasting.selectors.targets import target_board
from forecasting.services import targets as target_services
from forecasting.services.periods import expected_share, period_of
from salesflow.org.models import Region, Team

from .factories import target_make, won_opportunity

DEC = period_of(PeriodKind.MONTH, dt.date(2026, 12, 1))
TODAY = dt.date(2026, 12, 11)
SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def _org():
    east, north = Region.objects.get(name="华东区"), Region.objects.get(name="华北区")
    return {"east": east, "shanghai": Region.objects.get(name="上海"), "north": north,
            "team_a": Team.objects.get(name="A组"), "team_b": Team.objects.get(name="B组")}


def _row(board, level, key):
    return next(r for r in board.rows if r.node.level == level and r.node.key == key)


@pytest.mark.parametrize("text, expected", [
    ("120万", "1200000"), ("1,200,000", "1200000"), ("￥85.5万", "855000"), ("1.2亿", "120000000"),
    ("１２０万", "1200000"), (" 3 000 ", "3000"), ("99.99", "99.99"), ("120万元", "1200000"),
])
def test_amounts_are_read_as_people_type_them(text, expected):
    assert parse_amount(text) == Decimal(expected)


@pytest.mark.parametrize("text, problem", [
    ("", "empty"), ("-5万", "negative"), ("abc", "unreadable"), ("1.2.3", "unreadable"), ("0.001", "too precise"),
    ("2万亿", "unreadable"), ("10000亿", "too large"),
])
def test_unreadable_amounts_say_why(text, problem):
    with pytest.raises(AmountError, match=problem):
        parse_amount(text)


def test_expected_share_counts_working_days_with_holidays_and_days_in_lieu():
    calendar = WorkCalendar(tz=SHANGHAI, weekend_days=frozenset({5, 6}), holidays=frozenset({dt.date(2026, 12, 7)}),
                            workdays_in_lieu=frozenset({dt.date(2026, 12, 12)}))
    # December 2026: 23 weekdays, one a holiday, one Saturday worked in lieu → 23 working days.
    # By Friday the 11th: 1–4 (4) + 8–11 (4) = 8 of 23.
    assert expected_share(DEC, today=TODAY, calendar=calendar) == pytest.approx(8 / 23)
    assert expected_share(DEC, today=dt.date(2026, 11, 30), calendar=calendar) == 0
    assert expected_share(DEC, today=dt.date(2026, 12, 31), calendar=calendar) == 1
    quarter = period_of(PeriodKind.QUARTER, TODAY)
    assert (quarter.start, quarter.end) == (dt.date(2026, 10, 1), dt.date(2027, 1, 1))


def test_the_page_says_by_how_much_the_level_below_does_not_add_up(alpha, client_for):
    org = _org()
    target_make(level=TargetLevel.COMPANY, amount="1000000")
    target_make(level=TargetLevel.REGION, region=org["east"], amount="600000")
    target_make(level=TargetLevel.REGION, region=org["north"], amount="300000")
    target_make(level=TargetLevel.REGION, region=org["shanghai"], amount="600000")
    target_make(level=TargetLevel.TEAM, team=org["team_a"], amount="600000")

    board = target_board(user=alpha.admin, period=DEC, today=TODAY)
    company = _row(board, TargetLevel.COMPANY, None)
    assert (company.rollup, company.children_total, company.gap) == ("short", Decimal(900000), Decimal(-100000))
    assert _row(board, TargetLevel.REGION, org["east"].pk).rollup == "ok"
    assert _row(board, TargetLevel.TEAM, org["team_a"].pk).rollup == "undivided"  # its rep has no target
    assert _row(board, TargetLevel.REGION, org["north"].pk).rollup == "undivided"

    zh = client_for(alpha, alpha.admin).get("/targets/?kind=month&start=2026-12-01", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert zh.status_code == 200
    text = zh.content.decode()
    assert "下级合计" in text and "10万" in text and "90万" in text
    client = client_for(alpha, alpha.admin)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    en = client.get("/targets/?kind=month&start=2026-12-01").content.decode()
    assert "The level below adds up to" in en and "100,000" in en and "short of this target" in en


def test_attainment_counts_deals_won_in_the_period_by_their_won_stage_change(alpha):
    org = _org()
    target_make(level=TargetLevel.REP, rep=alpha.rep, amount="1000000")
    target_make(level=TargetLevel.TEAM, team=org["team_a"], amount="1000000")
    won_opportunity(owner=alpha.rep, amount="300000", won_at=dt.datetime(2026, 12, 3, 10, tzinfo=SHANGHAI),
                    created_at=dt.datetime(2026, 10, 1, tzinfo=SHANGHAI))
    won_opportunity(owner=alpha.rep, amount="50000", won_at=dt.datetime(2026, 11, 30, 23, 30, tzinfo=SHANGHAI))
    # 00:30 on 1 January in Shanghai is still 31 December in UTC: it belongs to January.
    won_opportunity(owner=alpha.rep, amount="70000", won_at=dt.datetime(2027, 1, 1, 0, 30, tzinfo=SHANGHAI))
    won_opportunity(owner=alpha.other_rep, amount="999000", won_at=dt.datetime(2026, 12, 2, tzinfo=SHANGHAI))

    board = target_board(user=alpha.manager, period=DEC, today=TODAY)
    rep = _row(board, TargetLevel.REP, alpha.rep.pk)
    assert rep.won == Decimal(300000) and rep.attainment == pytest.approx(0.3)
    team = _row(board, TargetLevel.TEAM, org["team_a"].pk)
    assert team.won == Decimal(300000)
    assert team.deviation == pytest.approx(round((0.3 - team.expected) * 100, 1))
    company = _row(target_board(user=alpha.admin, period=DEC, today=TODAY), TargetLevel.COMPANY, None)
    assert company.won == Decimal(1299000)


def test_a_product_line_view_counts_only_that_lines_deals(alpha):
    target_make(level=TargetLevel.REP, rep=alpha.rep, amount="200000", product_line="影像设备")
    won_opportunity(owner=alpha.rep, amount="100000", won_at=dt.datetime(2026, 12, 3, tzinfo=SHANGHAI), product_line="影像设备")
    won_opportunity(owner=alpha.rep, amount="400000", won_at=dt.datetime(2026, 12, 3, tzinfo=SHANGHAI), product_line="检验试剂")
    board = target_board(user=alpha.rep, period=DEC, product_line="影像设备", today=TODAY)
    assert [(r.node.key, r.won, r.attainment) for r in board.rows] == [(alpha.rep.pk, Decimal(100000), 0.5)]


def _edit(client, level, key, **data):
    return client.post(f"/targets/edit/{level}/{key}/?kind=month&start=2026-12-01",
                       {"amount": "120万", "deadline": "2026-12-31", **data})


@pytest.mark.parametrize("who, level, key, status", [
    ("manager", "rep", "rep", 302),            # a team manager sets their reps' targets
    ("manager", "team", "team_a", 403),        # … not their own team's
    ("manager", "rep", "other_rep", 404),      # … and cannot see another team's rep
    ("manager_b", "team", "team_a", 404),
    ("director", "team", "team_a", 302),       # a regional director sets their region's teams
    ("director", "region", "shanghai", 302),   # … and sub-regions
    ("director", "region", "east", 403),       # … not their own region's
    ("director", "company", None, 404),
    ("rep", "rep", "rep", 403),                # a rep sees their target, never sets it
    ("admin", "company", None, 302),
    ("admin", "region", "east", 302),
])
def test_targets_are_set_within_the_editors_reach_only(alpha, client_for, who, level, key, status):
    org = _org()
    users = {"manager": alpha.manager, "manager_b": alpha.other_manager, "director": alpha.director,
             "rep": alpha.rep, "admin": alpha.admin}
    keys = {"rep": alpha.rep.pk, "other_rep": alpha.other_rep.pk, "team_a": org["team_a"].pk,
            "shanghai": org["shanghai"].pk, "east": org["east"].pk, None: 0}
    audit_before = AuditEntry.objects.count()
    response = _edit(client_for(alpha, users[who]), level, keys[key])
    assert response.status_code == status
    if status == 302:
        target = Target.objects.get()
        assert target.amount == Decimal(1200000) and target.level == level and target.updated_by == users[who]
        entry = AuditEntry.objects.latest("pk")
        assert entry.verb == "target.set" and entry.actor_id == users[who].pk
        assert entry.payload["after"]["amount"] == "1200000.00" and entry.payload["before"] is None
    else:
        assert not Target.objects.exists()
        assert AuditEntry.objects.count() == audit_before


def test_a_change_is_audited_with_before_and_after_and_a_clear_too(alpha, client_for):
    client = client_for(alpha, alpha.manager)
    _edit(client, "rep", alpha.rep.pk, amount="1,000,000", reason="首月")
    _edit(client, "rep", alpha.rep.pk, amount="80万", reason="调整")
    target = Target.objects.get()
    assert target.amount == Decimal(800000)
    entry = AuditEntry.objects.filter(verb="target.set").latest("pk")
    assert entry.payload["before"]["amount"] == "1000000.00" and entry.payload["after"]["amount"] == "800000.00"
    assert entry.reason == "调整"
    response = client.post(f"/targets/edit/rep/{alpha.rep.pk}/?kind=month&start=2026-12-01", {"clear": "1"})
    assert response.status_code == 302 and not Target.objects.exists()
    assert AuditEntry.objects.filter(verb="target.cleared").latest("pk").payload["before"]["amount"] == "800000.00"


def test_the_audit_entry_is_in_the_same_transaction_as_the_change(alpha, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("audit chain unavailable")

    monkeypatch.setattr(target_services, "audit_record", broken)
    with pytest.raises(RuntimeError):
        target_services.target_set(actor=alpha.admin, level=TargetLevel.COMPANY, key=None, period=DEC, product_line="",
                                   amount=Decimal(1))
    assert not Target.objects.exists()


@pytest.mark.parametrize("data, message", [
    ({"amount": "abc"}, "Not an amount"),
    ({"amount": "-5"}, "cannot be negative"),
    ({"deadline": "2027-01-15"}, "must fall inside the period"),
])
def test_bad_input_is_refused_with_a_clear_error_and_nothing_saved(alpha, client_for, data, message):
    client = client_for(alpha, alpha.manager)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    response = _edit(client, "rep", alpha.rep.pk, **data)
    assert response.status_code == 400 and message in response.content.decode()
    assert not Target.objects.exists()


def test_nothing_crosses_tenants(alpha, beta, client_for):
    _edit(client_for(alpha, alpha.admin), "company", 0)
    assert Target.objects.count() == 1
    connection.set_tenant(beta.tenant)
    try:
        assert not Target.objects.exists()
        page = client_for(beta, beta.admin).get("/targets/?kind=month&start=2026-12-01")
        assert page.status_code == 200 and "1,200,000" not in page.content.decode() and "120万" not in page.content.decode()
    finally:
        connection.set_tenant(alpha.tenant)


def test_the_django_admin_refuses_a_target_whose_node_does_not_fit_its_level_and_audits_what_it_saves(alpha, client_for):
    client = client_for(alpha, alpha.admin)
    org = _org()
    data = {"period_kind": "month", "period_start": "2026-12-01", "level": "company", "region": org["east"].pk,
            "product_line": "", "amount": "1000", "deadline": "2026-12-31"}
    refused = client.post("/admin/forecasting/target/add/", data)
    assert refused.status_code == 200 and not Target.objects.exists()
    assert "Choose exactly the node of the level" in refused.content.decode() or "请只选择与层级对应的节点" in refused.content.decode()
    saved = client.post("/admin/forecasting/target/add/", {**data, "level": "region"})
    assert saved.status_code == 302
    assert AuditEntry.objects.filter(verb="target.created", target_id=str(Target.objects.get().pk)).exists()
