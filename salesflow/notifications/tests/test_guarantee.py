"""At least once, never silently lost, a duplicate always recognisable (SF-<id>)."""
import datetime as dt
import json
import re

import pytest
from django.db import transaction
from django.utils import timezone

from audit.models import AuditEntry
from salesflow.i18n import verbatim
from salesflow.notifications import transports
from salesflow.notifications.models import Channel, Delivery
from salesflow.notifications.services import (
    LEASE,
    MAX_ATTEMPTS,
    deliveries_sweep,
    delivery_retry,
    delivery_send,
    notify,
)

from .sinks import RobotServer
from salesflow.i18n import verbatim


@pytest.fixture
def robot():
    server = RobotServer().start()
    yield server
    server.stop()


def _delivery(alpha, robot, key="sla:golden48:1:2026-11-30T00:00:00+00:00") -> Delivery:
    Channel.objects.get_or_create(name="group", kind=Channel.Kind.WECOM, webhook_url=robot.url("/cgi-bin/webhook/send?key=k"))
    with transaction.atomic():
        notify(recipients=[alpha.rep], event_key=key, title=verbatim("48 小时未跟进"), body=verbatim("华东医院"), link="/o/1/", kind="alert")
    return Delivery.objects.get(event_key=key)


def _refs(robot) -> list[str]:
    return [m for r in robot.received for m in re.findall(r"SF-\d+", json.dumps(r.body))]


def test_a_robot_slower_than_the_timeout_gets_the_alert_again_after_the_lease_with_the_same_reference(
    alpha, robot, monkeypatch
):
    monkeypatch.setattr(transports, "HTTP_TIMEOUT", 0.3)
    robot.delays.append(1.0)  # a real server that answers after the sender stopped waiting
    delivery = _delivery(alpha, robot)
    now = timezone.now()

    outcome = delivery_send(delivery_id=delivery.pk, now=now)
    delivery.refresh_from_db()
    assert outcome.status == "retry"
    assert delivery.status == "pending" and "outcome unknown" in delivery.last_error
    assert delivery.next_attempt_at == now + LEASE  # not before the lease: it may have arrived
    assert deliveries_sweep(now=now + LEASE - dt.timedelta(seconds=1))["due"] == 0

    assert deliveries_sweep(now=now + LEASE)["due"] == 1
    assert delivery_send(delivery_id=delivery.pk).status == "sent"
    delivery.refresh_from_db()
    assert delivery.status == "sent" and delivery.attempts == 2
    assert _refs(robot) == [f"SF-{delivery.pk}", f"SF-{delivery.pk}"]


def test_a_send_interrupted_mid_way_is_sent_again_once_its_lease_has_expired(alpha, robot):
    delivery = _delivery(alpha, robot)
    claimed = timezone.now()
    # What a worker killed with kill -9 after claiming leaves behind.
    Delivery.objects.filter(pk=delivery.pk).update(status="sending", claimed_at=claimed, attempts=1)
    assert deliveries_sweep(now=claimed + LEASE - dt.timedelta(seconds=1)) == {"due": 0, "queued": 0, "released": 0, "failed": 0}
    assert delivery_send(delivery_id=delivery.pk).status == "skipped"  # the broker's redelivery, within the lease

    swept = deliveries_sweep(now=claimed + LEASE + dt.timedelta(seconds=1))
    assert swept["released"] == 1 and swept["due"] == 1 and swept["queued"] == 1
    delivery.refresh_from_db()
    assert delivery.status == "pending" and "outcome unknown" in delivery.last_error
    assert delivery_send(delivery_id=delivery.pk).status == "sent"
    assert delivery_send(delivery_id=delivery.pk).status == "skipped"
    assert _refs(robot) == [f"SF-{delivery.pk}"]


def test_a_late_worker_cannot_record_over_a_claim_that_is_no_longer_its_own(alpha, robot):
    delivery = _delivery(alpha, robot)
    old_claim = timezone.now() - LEASE - dt.timedelta(minutes=1)
    Delivery.objects.filter(pk=delivery.pk).update(status="sending", claimed_at=old_claim, attempts=1)
    deliveries_sweep(now=timezone.now())
    new_claim = timezone.now()
    assert delivery_send(delivery_id=delivery.pk, now=new_claim).status == "sent"
    from salesflow.notifications.services.deliveries import _finish

    stale = Delivery.objects.get(pk=delivery.pk)
    stale.claimed_at = old_claim
    _finish(stale, Delivery.Status.FAILED, error="late")
    delivery.refresh_from_db()
    assert delivery.status == "sent" and delivery.last_error != "late"


def test_an_expired_lease_on_the_last_attempt_is_a_visible_failure(alpha, robot):
    delivery = _delivery(alpha, robot)
    claimed = timezone.now() - LEASE - dt.timedelta(seconds=5)
    Delivery.objects.filter(pk=delivery.pk).update(status="sending", claimed_at=claimed, attempts=MAX_ATTEMPTS)
    assert deliveries_sweep(now=timezone.now())["failed"] == 1
    delivery.refresh_from_db()
    assert delivery.status == "failed" and "gave up after 6 attempts" in delivery.last_error


def test_admins_see_failed_deliveries_counted_and_can_re_send_them(alpha, robot, client_for, django_capture_on_commit_callbacks):
    delivery = _delivery(alpha, robot)
    Delivery.objects.filter(pk=delivery.pk).update(status="failed", attempts=MAX_ATTEMPTS, last_error="gave up")
    admin = client_for(alpha, alpha.admin)
    for url in ("/admin/", "/notifications/"):
        assert "1 条外部通知未能发送。" in admin.get(url).content.decode()
    assert "未能发送" not in client_for(alpha, alpha.rep).get("/notifications/").content.decode()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = admin.post("/admin/notifications/delivery/", {"action": "retry", "_selected_action": [delivery.pk]})
    assert response.status_code == 302 and len(callbacks) == 1
    delivery.refresh_from_db()
    assert delivery.status == "pending" and delivery.attempts == 0
    entry = AuditEntry.objects.filter(verb="notification_delivery.retried").order_by("-seq").first()
    assert entry.payload["ref"] == f"SF-{delivery.pk}"
    assert delivery_send(delivery_id=delivery.pk).status == "sent"
    assert "未能发送" not in admin.get("/admin/").content.decode()
    assert not delivery_retry(actor=alpha.admin, delivery=delivery)  # only failed rows


def test_the_reference_in_a_message_finds_its_delivery_in_the_admin(alpha, robot, client_for):
    delivery = _delivery(alpha, robot)
    page = client_for(alpha, alpha.admin).get("/admin/notifications/delivery/", {"q": f"sf-{delivery.pk}"})
    assert page.status_code == 200 and page.context["cl"].result_count == 1
