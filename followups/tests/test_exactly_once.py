"""Exactly once across failures: a broker that is down at commit time, a redelivered send."""
import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from followups.models import AlertKind, SlaAlert
from followups.services import sla_scan
from salesflow.broker import breaker_reset
from salesflow.notifications.models import Channel, Delivery
from salesflow.notifications.services import deliveries_sweep, delivery_send
from salesflow.notifications.tests.brokers import broker_down
from salesflow.notifications.tests.sinks import RobotServer

from .factories import opportunity_make


@pytest.fixture
def robot():
    server = RobotServer().start()
    yield server
    server.stop()


def _silent_opportunity(alpha, now):
    last = now - dt.timedelta(hours=60)
    return opportunity_make(owner=alpha.rep, created_at=last, last_activity_at=last, stage_entered_at=last,
                            next_due_at=now + dt.timedelta(days=3))


def test_an_alert_raised_while_redis_is_down_goes_out_once_redis_is_back(alpha, robot, django_capture_on_commit_callbacks):
    Channel.objects.create(name="sales group", kind=Channel.Kind.WECOM, webhook_url=robot.url("/cgi-bin/webhook/send?key=k"))
    now = timezone.now()
    opp = _silent_opportunity(alpha, now)

    # The scan commits while the broker is unreachable: queuing fails, nothing is lost.
    with broker_down(), django_capture_on_commit_callbacks(execute=True):
        assert sla_scan(now=now).alerts >= 1
    alert = SlaAlert.objects.get(kind=AlertKind.GOLDEN, opportunity=opp)
    pending = Delivery.objects.filter(event_key__startswith=f"sla:golden48:{opp.pk}:")
    assert [d.status for d in pending] == ["pending"]
    assert robot.received == []

    # Redis is back (and this process's broker breaker has closed again): the minute sweep
    # picks the row up, the worker sends it once.
    breaker_reset()
    swept = deliveries_sweep(now=now + dt.timedelta(minutes=2))
    assert swept["due"] == 1 and swept["queued"] == 1
    delivery = pending.get()
    assert delivery_send(delivery_id=delivery.pk).status == "sent"
    # The broker redelivers the message (worker died after sending, before ack): nothing goes twice.
    assert delivery_send(delivery_id=delivery.pk).status == "skipped"
    assert len(robot.received) == 1
    assert "2 天 12 小时没有更新" in str(robot.received[0].body)  # the tenant's language, a duration as people say it
    # And a scan repeated at the same clock claims nothing new.
    assert sla_scan(now=now).alerts == 0
    assert SlaAlert.objects.filter(kind=AlertKind.GOLDEN, opportunity=opp).get() == alert


def test_two_scans_racing_at_the_same_clock_raise_each_alert_once(committed_tenant):
    """Two real connections scan concurrently; the unique claim lets only one notify."""
    import threading

    from django.db import close_old_connections
    from django_tenants.utils import tenant_context

    from followups.tests.factories import AccountFactory
    from salesflow.notifications.models import Notification
    from salesflow.org.models import Member, Role
    from salesflow.org.tests.factories import UserFactory

    now = timezone.now()
    with tenant_context(committed_tenant):
        rep = UserFactory(username="racer")
        Member.objects.create(user=rep, full_name="赛跑者", role=Role.REP)
        for number in range(20):
            last = now - dt.timedelta(hours=50 + number)
            opportunity_make(owner=rep, created_at=last, last_activity_at=last, stage_entered_at=last,
                             next_due_at=now + dt.timedelta(days=3), account=AccountFactory(owner=rep))
    results, barrier = [], threading.Barrier(2)

    def scan():
        try:
            with tenant_context(committed_tenant):
                barrier.wait()
                results.append(sla_scan(now=now).alerts)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=scan) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with tenant_context(committed_tenant):
        assert sorted(results) == [0, 20]
        assert SlaAlert.objects.filter(kind=AlertKind.GOLDEN).count() == 20
        assert Notification.objects.filter(event_key__startswith="sla:golden48:").count() == 20
