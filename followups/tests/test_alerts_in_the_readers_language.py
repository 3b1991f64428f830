"""One alert, stored once as a message, read by a zh manager and an en rep each in their own language."""
import datetime as dt

import pytest
from django.db import transaction

from followups.models import AlertKind, Opportunity, SlaAlert, Stage
from followups.services import followup_log, sla_scan
from salesflow.notifications.models import Channel, Delivery, Notification
from salesflow.notifications.services import delivery_send
from salesflow.notifications.tests.sinks import RobotServer
from salesflow.org.models import Member

from .factories import opportunity_make

NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)


def _languages(alpha, *, manager: str, rep: str) -> None:
    Member.objects.filter(user=alpha.manager).update(language=manager)
    Member.objects.filter(user=alpha.rep).update(language=rep)


def test_a_zh_manager_and_an_en_rep_read_the_same_golden_alert_each_in_their_language(alpha, client_for):
    _languages(alpha, manager="zh-hans", rep="en")
    last = NOW - dt.timedelta(hours=60)
    opp = opportunity_make(owner=alpha.rep, created_at=last - dt.timedelta(days=1), last_activity_at=last,
                           stage_entered_at=last, next_due_at=NOW + dt.timedelta(days=5), name="影像设备采购")
    followup_log(actor=alpha.rep, opportunity=opp, kind="visit", summary="拜访了设备科", occurred_at=last)
    Opportunity.objects.filter(pk=opp.pk).update(last_activity_at=last)
    sla_scan(now=NOW)
    assert Notification.objects.filter(recipient__in=[alpha.rep, alpha.manager], message__title__key="sla.golden.title").count() == 2
    # Nothing rendered is stored: the row holds the key and its parameters only.
    stored = Notification.objects.get(recipient=alpha.rep, message__title__key="sla.golden.title")
    assert stored.title == "" and stored.body == ""

    zh = client_for(alpha, alpha.manager).get("/notifications/").content.decode()
    en = client_for(alpha, alpha.rep).get("/notifications/").content.decode()

    assert "2 天 12 小时没有更新：影像设备采购" in zh and "最近的跟进" in zh and "[拜访]" in zh
    assert "No update for 2 days 12 hours: 影像设备采购" in en and "Last follow-ups" in en and "[visit]" in en
    assert "No update" not in zh and "没有更新" not in en


def test_a_stagnation_alert_names_the_stage_in_the_readers_language(alpha, client_for):
    _languages(alpha, manager="zh-hans", rep="en")
    stage = Stage.objects.get(code="solution_demo")
    long_ago = NOW - dt.timedelta(days=20)
    opportunity_make(owner=alpha.rep, stage="solution_demo", created_at=long_ago, last_activity_at=long_ago,
                     stage_entered_at=long_ago, next_due_at=NOW + dt.timedelta(days=5), name="监护仪")
    sla_scan(now=NOW)
    assert SlaAlert.objects.filter(kind=AlertKind.STAGNANT).exists()
    zh = client_for(alpha, alpha.manager).get("/notifications/").content.decode()
    Member.objects.filter(user=alpha.manager).update(language="en")
    en = client_for(alpha, alpha.manager).get("/notifications/").content.decode()
    assert f"停滞在{stage.name_zh}" in zh.replace(" ", "") or f"{stage.name_zh}" in zh
    assert f"Stagnant in {stage.name_en}: 监护仪" in en


@pytest.fixture
def robot():
    server = RobotServer().start()
    yield server
    server.stop()


def test_an_email_goes_out_in_the_recipients_language_and_a_robot_in_the_tenants(alpha, mailoutbox, robot):
    _languages(alpha, manager="zh-hans", rep="en")
    alpha.rep.email, alpha.manager.email = "rep@alpha.example.com", "boss@alpha.example.com"
    alpha.rep.save(), alpha.manager.save()
    Channel.objects.create(name="mail", kind=Channel.Kind.EMAIL)
    Channel.objects.create(name="wecom", kind=Channel.Kind.WECOM, webhook_url=robot.url("/s?key=k"), message_format="text")
    last = NOW - dt.timedelta(hours=50)
    with transaction.atomic():
        opportunity_make(owner=alpha.rep, created_at=last - dt.timedelta(days=1), last_activity_at=last,
                         stage_entered_at=last, next_due_at=NOW + dt.timedelta(days=5), name="呼吸机")
    sla_scan(now=NOW)
    for delivery in Delivery.objects.all():
        delivery_send(delivery_id=delivery.pk)
    subjects = {mail.to[0]: mail.subject for mail in mailoutbox}
    assert subjects["rep@alpha.example.com"] == "No update for 2 days 2 hours: 呼吸机"
    assert subjects["boss@alpha.example.com"] == "2 天 2 小时没有更新：呼吸机"
    assert "2 天 2 小时没有更新：呼吸机" in robot.received[0].body["text"]["content"]  # the tenant's default: zh-hans
