import datetime as dt
import socket

import pytest
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone

from audit.models import AuditEntry
from salesflow.i18n import verbatim
from salesflow.notifications.models import Channel, Delivery, Notification
from salesflow.notifications.services import (
    NotifyOutsideTransaction,
    channel_test_send,
    deliveries_sweep,
    delivery_send,
    notify,
)
from salesflow.notifications.transports import WECOM_MARKDOWN_MAX_BYTES, dingtalk_signed_url, truncate_utf8

from .sinks import RobotServer, SmtpSink


@pytest.fixture
def robot():
    server = RobotServer(secret="SEC0123456789abcdef").start()
    yield server
    server.stop()


def _notify(users, key="lead.assigned:1", **extra):
    with transaction.atomic():
        return notify(recipients=users, event_key=key, title=verbatim("新线索：华东医院"), body=verbatim("预算 A 级，请 5 分钟内联系"), link="/leads/1/", **extra)


def test_it_refuses_to_run_outside_a_transaction(alpha):
    # pytest-django wraps the test in a transaction; leave it to prove the guard.
    connection.in_atomic_block, saved = False, connection.in_atomic_block
    try:
        with pytest.raises(NotifyOutsideTransaction):
            notify(recipients=[alpha.rep], event_key="x", title=verbatim("t"), body=verbatim("b"))
    finally:
        connection.in_atomic_block = saved


def test_it_notifies_each_recipient_once_per_event(alpha):
    first = _notify([alpha.rep, alpha.manager, alpha.rep])
    second = _notify([alpha.rep, alpha.manager])
    assert {n.recipient_id for n in first} == {alpha.rep.pk, alpha.manager.pk}
    assert second == []
    assert Notification.objects.filter(event_key="lead.assigned:1").count() == 2


def test_a_later_call_notifies_only_the_new_recipient(alpha):
    _notify([alpha.rep])
    again = _notify([alpha.rep, alpha.manager])
    assert [n.recipient_id for n in again] == [alpha.manager.pk]


def test_it_writes_one_outbox_row_per_channel_and_target_and_queues_after_commit(alpha, django_capture_on_commit_callbacks):
    email = Channel.objects.create(name="mail", kind=Channel.Kind.EMAIL)
    ding = Channel.objects.create(name="ding", kind=Channel.Kind.DINGTALK, webhook_url="http://127.0.0.1:9/robot/send?access_token=t")
    Channel.objects.create(name="off", kind=Channel.Kind.WECOM, webhook_url="http://127.0.0.1:9/x", enabled=False)
    with django_capture_on_commit_callbacks() as callbacks:
        _notify([alpha.rep, alpha.manager])
    rows = Delivery.objects.filter(event_key="lead.assigned:1")
    assert sorted((d.channel_id, d.target) for d in rows) == sorted(
        [(email.pk, alpha.rep.email), (email.pk, alpha.manager.email), (ding.pk, f"robot:{ding.pk}")]
    )
    assert all(d.status == "pending" for d in rows)
    assert len(callbacks) == 1
    _notify([alpha.rep, alpha.manager])
    assert Delivery.objects.filter(event_key="lead.assigned:1").count() == 3


def test_the_dingtalk_signature_matches_the_documented_recipe():
    url = dingtalk_signed_url("https://oapi.dingtalk.com/robot/send?access_token=abc", "SECabc", timestamp_ms=1700000000000)
    # Computed independently: base64(HMAC-SHA256("1700000000000\nSECabc", key "SECabc")), URL-encoded.
    import base64, hashlib, hmac, urllib.parse
    expected = urllib.parse.quote_plus(
        base64.b64encode(hmac.new(b"SECabc", b"1700000000000\nSECabc", hashlib.sha256).digest())
    )
    assert url == f"https://oapi.dingtalk.com/robot/send?access_token=abc&timestamp=1700000000000&sign={expected}"


def test_a_dingtalk_markdown_message_arrives_signed_and_well_formed(alpha, robot):
    Channel.objects.create(name="ding", kind=Channel.Kind.DINGTALK, webhook_url=robot.url("/robot/send?access_token=tok"), secret=robot.secret)
    _notify([alpha.rep])
    delivery = Delivery.objects.get(event_key="lead.assigned:1")
    assert delivery_send(delivery_id=delivery.pk).status == "sent"
    [request] = robot.received
    assert request.signature_ok is True
    assert request.query["access_token"] == "tok"
    assert request.body["msgtype"] == "markdown"
    assert request.body["markdown"]["title"] == "新线索：华东医院"
    assert "预算 A 级" in request.body["markdown"]["text"]
    assert "/leads/1/" in request.body["markdown"]["text"]
    delivery.refresh_from_db()
    assert delivery.status == "sent" and delivery.sent_at is not None and delivery.attempts == 1


def test_a_dingtalk_text_message_has_the_text_shape(alpha, robot):
    Channel.objects.create(name="ding", kind=Channel.Kind.DINGTALK, webhook_url=robot.url("/robot/send?access_token=tok"),
                           secret=robot.secret, message_format="text")
    _notify([alpha.rep])
    delivery_send(delivery_id=Delivery.objects.get().pk)
    body = robot.received[0].body
    assert body["msgtype"] == "text" and body["text"]["content"].startswith("新线索：华东医院\n")


def test_an_errcode_in_a_200_answer_is_a_visible_permanent_failure(alpha, robot):
    robot.answers.append((200, {"errcode": 310000, "errmsg": "sign not match"}))
    Channel.objects.create(name="ding", kind=Channel.Kind.DINGTALK, webhook_url=robot.url("/robot/send?access_token=t"), secret="wrong")
    _notify([alpha.rep])
    delivery = Delivery.objects.get()
    outcome = delivery_send(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert outcome.status == "failed" and outcome.retry_in is None
    assert delivery.status == "failed" and "310000" in delivery.last_error


def test_a_rate_limit_errcode_is_retried_later_with_backoff(alpha, robot):
    robot.answers.append((200, {"errcode": 130101, "errmsg": "send too fast"}))
    Channel.objects.create(name="ding", kind=Channel.Kind.DINGTALK, webhook_url=robot.url("/r?access_token=t"))
    _notify([alpha.rep])
    delivery = Delivery.objects.get()
    now = timezone.now()
    outcome = delivery_send(delivery_id=delivery.pk, now=now)
    delivery.refresh_from_db()
    assert outcome.status == "retry" and outcome.retry_in == 30
    assert delivery.status == "pending" and delivery.next_attempt_at == now + dt.timedelta(seconds=30)
    assert delivery_send(delivery_id=delivery.pk).status == "sent"
    delivery.refresh_from_db()
    assert delivery.attempts == 2 and len(robot.received) == 2


def test_server_errors_and_refused_connections_are_temporary(alpha, robot):
    robot.answers.append((502, {"error": "bad gateway"}))
    Channel.objects.create(name="wecom", kind=Channel.Kind.WECOM, webhook_url=robot.url("/cgi-bin/webhook/send?key=k"))
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    Channel.objects.create(name="dead", kind=Channel.Kind.WECOM, webhook_url=f"http://127.0.0.1:{dead_port}/x?key=k")
    _notify([alpha.rep])
    outcomes = {d.channel.name: delivery_send(delivery_id=d.pk) for d in Delivery.objects.select_related("channel")}
    assert outcomes["wecom"].status == "retry" and "502" in outcomes["wecom"].error
    assert outcomes["dead"].status == "retry" and "network" in outcomes["dead"].error


def test_it_gives_up_after_the_last_attempt_and_says_so(alpha, robot):
    Channel.objects.create(name="wecom", kind=Channel.Kind.WECOM, webhook_url=robot.url("/x?key=k"))
    _notify([alpha.rep])
    delivery = Delivery.objects.get()
    Delivery.objects.filter(pk=delivery.pk).update(attempts=5)
    robot.answers.append((503, {}))
    assert delivery_send(delivery_id=delivery.pk).status == "failed"
    delivery.refresh_from_db()
    assert delivery.status == "failed" and "gave up after 6 attempts" in delivery.last_error


def test_a_wecom_markdown_message_respects_the_4096_byte_limit(alpha, robot):
    Channel.objects.create(name="wecom", kind=Channel.Kind.WECOM, webhook_url=robot.url("/cgi-bin/webhook/send?key=k"))
    with transaction.atomic():
        notify(recipients=[alpha.rep], event_key="long", title=verbatim("长消息"), body=verbatim("跟进记录" * 2000), link="/leads/9/")
    assert delivery_send(delivery_id=Delivery.objects.get().pk).status == "sent"
    body = robot.received[0].body
    content = body["markdown"]["content"]
    assert body["msgtype"] == "markdown" and robot.received[0].query == {"key": "k"}
    assert len(content.encode("utf-8")) <= WECOM_MARKDOWN_MAX_BYTES
    delivery = Delivery.objects.get()
    # The link and the reference survive truncation: they are what the reader needs to act.
    assert content.startswith("**长消息**") and content.endswith(f"/leads/9/)\n`SF-{delivery.pk}`")
    assert "\ufffd" not in content


def test_a_wecom_text_message_has_the_text_shape(alpha, robot):
    Channel.objects.create(name="wecom", kind=Channel.Kind.WECOM, webhook_url=robot.url("/s?key=k"), message_format="text")
    _notify([alpha.rep])
    delivery_send(delivery_id=Delivery.objects.get().pk)
    assert robot.received[0].body["msgtype"] == "text"
    assert "预算 A 级" in robot.received[0].body["text"]["content"]


def test_truncation_never_splits_a_character():
    cut = truncate_utf8("线索" * 10, 10)
    assert len(cut.encode()) <= 10 and cut.endswith("…") and cut.startswith("线索")


def test_a_claimed_delivery_is_never_sent_twice(alpha, robot):
    Channel.objects.create(name="ding", kind=Channel.Kind.DINGTALK, webhook_url=robot.url("/r?access_token=t"))
    _notify([alpha.rep])
    delivery = Delivery.objects.get()
    assert delivery_send(delivery_id=delivery.pk).status == "sent"
    assert delivery_send(delivery_id=delivery.pk).status == "skipped"
    assert len(robot.received) == 1


@override_settings(EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend", EMAIL_HOST="127.0.0.1")
def test_e_mail_goes_to_each_recipient_through_smtp(alpha):
    sink = SmtpSink().start()
    try:
        with override_settings(EMAIL_PORT=sink.port):
            Channel.objects.create(name="mail", kind=Channel.Kind.EMAIL)
            _notify([alpha.rep])
            assert delivery_send(delivery_id=Delivery.objects.get().pk).status == "sent"
            [message] = sink.messages
            assert message["to"] == [alpha.rep.email]
            assert b"/leads/1/" in message["data"]
            sink.refuse_rcpt = True
            _notify([alpha.manager], key="second")
            refused = Delivery.objects.get(event_key="second")
            assert delivery_send(delivery_id=refused.pk).status == "failed"
    finally:
        sink.stop()


def test_the_send_test_button_reports_and_audits_the_outcome(alpha, robot):
    good = Channel.objects.create(name="good", kind=Channel.Kind.DINGTALK, webhook_url=robot.url("/r?access_token=t"), secret=robot.secret)
    assert channel_test_send(actor=alpha.admin, channel=good).status == "sent"
    assert robot.received[0].signature_ok is True
    robot.answers.append((200, {"errcode": 300001, "errmsg": "token is not exist"}))
    outcome = channel_test_send(actor=alpha.admin, channel=good)
    assert outcome.status == "failed" and "300001" in outcome.error
    entry = AuditEntry.objects.filter(verb="notification_channel.tested").order_by("-seq").first()
    assert entry.payload["status"] == "failed"
