"""The weekly health report: Monday 08:00 tenant time, once per ISO week and manager, through a dead broker."""
import datetime as dt
import io
import zoneinfo

import pytest
from django.core.management import call_command
from django.utils import timezone

from audit.health.report import send_due_health_reports
from audit.models import AuditEntry, WeeklyHealthReport
from salesflow.broker import breaker_reset
from salesflow.notifications.models import Channel, Delivery, Notification
from salesflow.notifications.services import deliveries_sweep, delivery_send
from salesflow.notifications.tests.brokers import broker_down
from salesflow.notifications.tests.sinks import RobotServer
from salesflow.org.services import tenant_settings_update

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
MONDAY_8 = dt.datetime(2026, 11, 23, 8, 0, tzinfo=SHANGHAI)  # ISO week 2026-W48
MANAGERS = 3  # the cast's director, manager and manager_b


@pytest.fixture
def robot():
    server = RobotServer().start()
    yield server
    server.stop()


def test_nothing_is_due_before_monday_eight_tenant_time(alpha, small_book):
    assert send_due_health_reports(now=MONDAY_8 - dt.timedelta(minutes=1)) == 0
    assert not WeeklyHealthReport.objects.exists()


def test_each_manager_gets_one_report_per_iso_week(alpha, small_book):
    assert send_due_health_reports(now=MONDAY_8) == MANAGERS
    assert send_due_health_reports(now=MONDAY_8) == 0  # the same clock again
    assert send_due_health_reports(now=MONDAY_8 + dt.timedelta(days=3)) == 0  # later that week
    claims = WeeklyHealthReport.objects.filter(iso_year=2026, iso_week=48)
    assert sorted(claims.values_list("manager_id", flat=True)) == sorted(
        [alpha.director.pk, alpha.manager.pk, alpha.other_manager.pk])
    assert Notification.objects.filter(recipient=alpha.manager, event_key__startswith="health:weekly:2026-W48:").count() == 1
    assert AuditEntry.objects.filter(verb="health.weekly_report").count() == MANAGERS
    # The next Monday is a new week.
    assert send_due_health_reports(now=MONDAY_8 + dt.timedelta(days=7)) == MANAGERS


def test_the_report_states_the_scope_figures_reps_below_and_customers_uncovered(alpha, small_book, settings):
    settings.LANGUAGE_CODE = "en"
    send_due_health_reports(now=MONDAY_8)
    from django.utils import translation

    note = Notification.objects.get(recipient=alpha.manager, event_key__startswith="health:weekly:")
    with translation.override("en"):
        title, body = note.title_text, note.body_text
    assert "2026-W48" in title
    assert "Key-person depth: 50% of open opportunities (healthy ≥ 78%" in body
    assert "First touch: median" in body
    assert "乙医院 · 乙试剂" in body and "丁院长" in body  # the customer without key-person touches
    assert "丙医院" not in body  # another team's customer is not this manager's
    with translation.override("zh-hans"):
        assert "关键人" in note.body_text  # stored as message keys: read in the reader's language
    figures = WeeklyHealthReport.objects.get(manager=alpha.manager).figures
    assert figures["current"]["covered"] == 1 and figures["current"]["open"] == 2


def test_monday_eight_is_the_tenants_own_clock(alpha, small_book):
    tenant_settings_update(actor=alpha.admin, reason="test", time_zone="Europe/Berlin")
    berlin_monday_8 = dt.datetime(2026, 11, 23, 7, 0, tzinfo=dt.UTC)  # 08:00 CET
    assert send_due_health_reports(now=berlin_monday_8 - dt.timedelta(seconds=1)) == 0
    assert send_due_health_reports(now=berlin_monday_8) == MANAGERS


def test_the_command_prints_the_summary_line_and_a_second_run_sends_none(alpha, small_book):
    out = io.StringIO()
    call_command("run_weekly_reports", "--schema", "alpha", "--now", MONDAY_8.isoformat(), stdout=out)
    assert out.getvalue().splitlines()[-1] == f"weekly reports alpha: heatmaps=0 health={MANAGERS}"
    out = io.StringIO()
    call_command("run_weekly_reports", "--schema", "alpha", "--now", MONDAY_8.isoformat(), stdout=out)
    assert out.getvalue().splitlines()[-1] == "weekly reports alpha: heatmaps=0 health=0"


def test_a_report_claimed_while_redis_is_down_goes_out_once_redis_is_back(
    alpha, small_book, robot, mailoutbox, django_capture_on_commit_callbacks
):
    Channel.objects.create(name="sales group", kind=Channel.Kind.WECOM, webhook_url=robot.url("/cgi-bin/webhook/send?key=k"))
    Channel.objects.create(name="mail", kind=Channel.Kind.EMAIL)
    with broker_down(), django_capture_on_commit_callbacks(execute=True):
        assert send_due_health_reports(now=MONDAY_8) == MANAGERS
    pending = Delivery.objects.filter(event_key=f"health:weekly:2026-W48:{alpha.manager.pk}")
    assert sorted(d.status for d in pending) == ["pending", "pending"]  # the robot and the manager's e-mail
    assert robot.received == [] and mailoutbox == []

    breaker_reset()
    # The outbox rows carry the database's clock: the minute sweep after it picks them up.
    assert deliveries_sweep(now=timezone.now() + dt.timedelta(minutes=2))["due"] == 2 * MANAGERS
    for delivery in pending:
        assert delivery_send(delivery_id=delivery.pk).status == "sent"
        assert delivery_send(delivery_id=delivery.pk).status == "skipped"  # redelivered: not sent twice
    assert send_due_health_reports(now=MONDAY_8) == 0

    posted = robot.received[0].body
    assert posted["msgtype"] == "markdown" and len(posted["markdown"]["content"].encode()) <= 4096
    assert "- " in posted["markdown"]["content"]
    mail = mailoutbox[0]
    html, kind = mail.alternatives[0]
    assert kind == "text/html" and "<ul" in html and "乙试剂" in html
    assert "乙试剂" in mail.body  # and the plain text part
