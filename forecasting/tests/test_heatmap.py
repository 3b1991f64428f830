"""The Friday 17:00 deviation heatmap: due at the tenant's clock, once per ISO week and manager,
in each reader's language, through every channel, and `run_weekly_reports` saying so."""
import datetime as dt
import io
import json

import pytest
from django.core.management import call_command

from forecasting.models import HeatmapReport, TargetLevel, TargetPolicy
from forecasting.services.heatmap import band_for, send_due_heatmaps
from salesflow.notifications.models import Channel, Delivery, Notification
from salesflow.notifications.services.deliveries import _message_for
from salesflow.notifications.transports import WECOM_MARKDOWN_MAX_BYTES, email_html, wecom_payload
from salesflow.org.models import Member, Region, Team, TenantSettings
from salesflow.org.services import tenant_settings_forget

from .factories import target_make, won_opportunity

# Friday 11 December 2026, 17:00 in Shanghai (the test tenants' zone).
FRIDAY_1700 = dt.datetime(2026, 12, 11, 9, 0, tzinfo=dt.UTC)
SHANGHAI = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture
def targets(alpha):
    east, north = Region.objects.get(name="华东区"), Region.objects.get(name="华北区")
    team_a = Team.objects.get(name="A组")
    target_make(level=TargetLevel.REGION, region=east, amount="1000000")
    target_make(level=TargetLevel.REGION, region=east, amount="400000", product_line="影像设备")
    target_make(level=TargetLevel.REGION, region=north, amount="500000")
    target_make(level=TargetLevel.TEAM, team=team_a, amount="1000000")
    target_make(level=TargetLevel.TEAM, team=team_a, amount="400000", product_line="影像设备")
    won_opportunity(owner=alpha.rep, amount="380000", won_at=dt.datetime(2026, 12, 4, tzinfo=SHANGHAI))
    return {"east": east, "north": north, "team_a": team_a}


def _managers(alpha):
    return {alpha.admin.pk, alpha.director.pk, alpha.manager.pk, alpha.other_manager.pk}


def test_bands_follow_the_tenants_thresholds(alpha):
    policy = TargetPolicy(green_from=-5, yellow_from=-15)
    assert [band_for(d, policy) for d in (3.0, -5.0, -5.1, -15.0, -15.1, None)] == [
        "green", "green", "yellow", "yellow", "red", "none"]


def test_sent_once_per_iso_week_to_every_manager_for_their_scope(alpha, targets):
    assert send_due_heatmaps(FRIDAY_1700 - dt.timedelta(minutes=1)) == 0  # 16:59 Friday
    assert send_due_heatmaps(FRIDAY_1700) == 4
    reports = {r.recipient_id: r for r in HeatmapReport.objects.all()}
    assert set(reports) == _managers(alpha)
    assert reports[alpha.admin.pk].scope == "company"
    assert [row["name"] for row in reports[alpha.director.pk].cells["rows"]] == ["华东区", "上海"]
    assert reports[alpha.manager.pk].scope == "team"
    assert [row["name"] for row in reports[alpha.manager.pk].cells["rows"]] == ["A组"]
    # Expected by Friday 11 December: 11 of 31 days (the test tenant has no weekend days) ≈ 35.5 %.
    # 华东区: 380,000 of 1,000,000 won → 38 %, +2.5 points: green. 影像设备: 380,000 of 400,000 → 95 %.
    east = reports[alpha.director.pk].cells["rows"][0]["cells"]
    assert reports[alpha.director.pk].cells["columns"] == ["", "影像设备"]
    assert (east[0]["band"], east[0]["deviation"]) == ("green", 2.5)
    north = next(r for r in reports[alpha.admin.pk].cells["rows"] if r["name"] == "华北区")["cells"]
    assert (north[0]["band"], north[0]["deviation"], north[1]["band"]) == ("red", -35.5, "none")

    assert send_due_heatmaps(FRIDAY_1700) == 0  # the same clock again
    assert send_due_heatmaps(FRIDAY_1700 + dt.timedelta(days=1, hours=3)) == 0  # Saturday, same week
    assert Notification.objects.filter(kind="report").count() == 4
    assert send_due_heatmaps(FRIDAY_1700 + dt.timedelta(days=7)) == 4  # next Friday
    assert HeatmapReport.objects.values("iso_week").distinct().count() == 2


def test_a_manager_already_claimed_by_a_racing_run_is_not_sent_again(alpha, targets):
    HeatmapReport.objects.create(iso_week="2026-W50", recipient=alpha.manager, scope="team",
                                 period_start=dt.date(2026, 12, 1), cells={}, sent_at=FRIDAY_1700)
    assert send_due_heatmaps(FRIDAY_1700) == 3
    assert not Notification.objects.filter(recipient=alpha.manager, kind="report").exists()


def test_friday_1700_is_the_tenants_local_time(alpha, targets):
    TenantSettings.objects.filter(pk=1).update(time_zone="America/New_York")
    tenant_settings_forget()
    try:
        # 17:00 in Shanghai is 04:00 in New York: not yet.
        assert send_due_heatmaps(FRIDAY_1700) == 0
        new_york_1700 = dt.datetime(2026, 12, 11, 22, 0, tzinfo=dt.UTC)
        assert send_due_heatmaps(new_york_1700 - dt.timedelta(seconds=1)) == 0
        assert send_due_heatmaps(new_york_1700) == 4
        # Still Friday in New York, already Saturday in UTC: the same ISO week, nothing more.
        assert send_due_heatmaps(new_york_1700 + dt.timedelta(hours=5)) == 0
        assert set(HeatmapReport.objects.values_list("iso_week", flat=True)) == {"2026-W50"}
    finally:
        TenantSettings.objects.filter(pk=1).update(time_zone="Asia/Shanghai")
        tenant_settings_forget()


def test_run_weekly_reports_prints_the_spec_line_and_a_second_run_sends_none(alpha, targets):
    def run():
        out = io.StringIO()
        call_command("run_weekly_reports", "--schema", "alpha", "--now", "2026-12-11T17:00:00+08:00", stdout=out)
        return out.getvalue().strip().splitlines()[-1]

    # the week's Monday health report (three managers) was never sent, so it goes out with the heatmaps
    assert run() == "weekly reports alpha: heatmaps=4 health=3"
    assert run() == "weekly reports alpha: heatmaps=0 health=0"


def test_the_message_reads_in_each_recipients_language_in_app_and_by_email(alpha, targets, client_for):
    Channel.objects.create(name="mail", kind=Channel.Kind.EMAIL)
    Member.objects.filter(user=alpha.director).update(language="en")
    Member.objects.filter(user=alpha.manager).update(language="zh-hans")
    send_due_heatmaps(FRIDAY_1700)

    notification = Notification.objects.get(recipient=alpha.director, kind="report")
    assert notification.title == "" and notification.message["title"]["key"] == "heatmap.title"  # stored as a key
    en_page = client_for(alpha, alpha.director).get("/notifications/").content.decode()
    zh_page = client_for(alpha, alpha.manager).get("/notifications/").content.decode()
    assert "Target deviation heatmap 2026-W50: your regions" in en_page and "✓ green +2.5" in en_page
    assert "目标偏差热力图 2026-W50：您负责的团队" in zh_page and "✓ 绿 +2.5" in zh_page

    mails = {d.target: d for d in Delivery.objects.select_related("channel").filter(channel__kind=Channel.Kind.EMAIL)}
    assert set(mails) == {u.email.lower() for u in (alpha.admin, alpha.director, alpha.manager, alpha.other_manager) if u.email}
    assert all(d.status == Delivery.Status.PENDING for d in mails.values())  # the outbox holds them until sent
    en_mail = _message_for(mails[alpha.director.email.lower()])
    zh_mail = _message_for(mails[alpha.manager.email.lower()])
    assert en_mail.subject.startswith("Target deviation heatmap") and "- 华东区: all lines ✓ green +2.5" in en_mail.text
    assert zh_mail.subject.startswith("目标偏差热力图") and "- A组：全部产品线 ✓ 绿 +2.5" in zh_mail.text
    html = email_html(en_mail)
    assert "<ul><li>华东区: all lines ✓ green +2.5" in html and f'<a href="{en_mail.link}">' in html


def test_a_robot_gets_one_markdown_post_per_manager_within_its_size_limit(alpha, targets):
    channel = Channel.objects.create(name="销售群", kind=Channel.Kind.WECOM,
                                     webhook_url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k")
    # A big organisation: 60 regions with targets make a message far over WeCom's 4 KB.
    for number in range(60):
        region = Region.objects.create(name=f"测试大区{number:02d}", director=alpha.director)
        target_make(level=TargetLevel.REGION, region=region, amount="100000")
    send_due_heatmaps(FRIDAY_1700)
    robots = Delivery.objects.filter(channel=channel)
    assert robots.count() == 4
    payload = wecom_payload(_message_for(robots.get(notification__recipient=alpha.director)), message_format="markdown")
    content = payload["markdown"]["content"]
    assert len(content.encode()) <= WECOM_MARKDOWN_MAX_BYTES and "/targets/heatmap/?report=" in content
    assert json.dumps(payload, ensure_ascii=False).count("测试大区") > 5
    # Both periods made it into the one message, cut to the rows behind rather than cut off at the end.
    assert "2026-12" in content and "2026 Q4" in content and not content.rstrip().endswith("…")


def test_the_friday_message_carries_the_month_and_the_quarter_once_per_manager(alpha, targets):
    east = targets["east"]
    target_make(level=TargetLevel.REGION, region=east, amount="3000000", kind="quarter", start=dt.date(2026, 10, 1))
    assert send_due_heatmaps(FRIDAY_1700) == 4
    assert Notification.objects.filter(recipient=alpha.director, kind="report").count() == 1
    report = HeatmapReport.objects.get(recipient=alpha.director)
    quarter = report.cells["also"][0]
    assert (quarter["period_kind"], quarter["period_start"]) == ("quarter", "2026-10-01")
    # 380,000 of 3,000,000 → 12.7 %; expected by 11 December: 72 of 92 days → 78.3 %: −65.6 points, red.
    assert quarter["rows"][0]["name"] == "华东区" and quarter["rows"][0]["cells"][0]["band"] == "red"
    from django.utils import translation
    from salesflow import i18n

    notification = Notification.objects.get(recipient=alpha.director, kind="report")
    with translation.override("en"):
        text = i18n.render(notification.message["body"])
    assert "Month 2026-12" in text and "Quarter 2026 Q4" in text and "✕ red" in text
    with translation.override("zh-hans"):
        text = i18n.render(notification.message["body"])
    assert "月度 2026-12" in text and "季度 2026 Q4" in text
    assert send_due_heatmaps(FRIDAY_1700 + dt.timedelta(hours=2)) == 0
    assert Notification.objects.filter(kind="report").count() == 4


def test_a_message_over_budget_keeps_the_rows_behind_and_counts_the_rest(alpha, targets):
    from forecasting.services.heatmap import heatmap_message, rendered_bytes
    from forecasting.services.periods import period_of
    from forecasting.services.heatmap import Grid

    def grid(kind, start, rows):
        return Grid(scope="company", period=period_of(kind, start), expected=0.5, columns=[""], green_from=-5,
                    yellow_from=-15, rows=[{"level": "region", "key": n, "name": f"大区{n:03d}",
                                            "cells": [{"band": "red", "deviation": -40.0, "won": "0", "target": "1"}]}
                                           for n in range(rows)])

    grids = [grid("month", dt.date(2026, 12, 1), 200), grid("quarter", dt.date(2026, 10, 1), 200)]
    title, body = heatmap_message(grids, week="2026-W50", budget=3400)
    assert rendered_bytes(title) + rendered_bytes(body) <= 3400
    from django.utils import translation
    from salesflow import i18n

    with translation.override("en"):
        text = i18n.render(body)
    assert "大区000" in text and "more rows behind" in text and "Quarter 2026 Q4" in text


def test_the_heatmap_page_shows_the_live_map_and_the_report_sent(alpha, targets, client_for):
    send_due_heatmaps(FRIDAY_1700)
    report = HeatmapReport.objects.get(recipient=alpha.director)
    client = client_for(alpha, alpha.director)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    page = client.get(f"/targets/heatmap/?report={report.pk}").content.decode()
    assert "As sent for 2026-W50" in page and page.count('<td class="band-green">') == 4  # 华东区 and 上海 × 2 columns
    assert "Quarter · 2026 Q4" in page and "Month · 2026-12" in page  # the quarter's map went out with the month's
    live = client.get("/targets/heatmap/?kind=month&start=2026-12-01")
    assert live.status_code == 200 and "band-" in live.content.decode()
    other = HeatmapReport.objects.get(recipient=alpha.manager)
    assert client.get(f"/targets/heatmap/?report={other.pk}").status_code == 404  # not theirs
    assert client.get("/targets/heatmap/?report=abc").status_code == 404


def test_beat_fans_the_weekly_reports_out_to_every_tenant_through_the_same_code(alpha, targets, monkeypatch):
    from django.conf import settings

    from salesflow import weekly_reports
    from salesflow.celery import app
    from salesflow.tasks import weekly_reports_task

    entry = settings.CELERY_BEAT_SCHEDULE["weekly-reports"]
    assert entry["task"] == "salesflow.tenancy.tasks.fan_out_to_tenants"
    assert entry["args"][0] == "salesflow.tasks.weekly_reports_task"
    app.loader.import_default_modules()
    assert "salesflow.tasks.weekly_reports_task" in app.tasks
    monkeypatch.setattr(weekly_reports.timezone, "now", lambda: FRIDAY_1700)
    assert weekly_reports_task() == "weekly reports alpha: heatmaps=4 health=3"
    assert weekly_reports_task() == "weekly reports alpha: heatmaps=0 health=0"
