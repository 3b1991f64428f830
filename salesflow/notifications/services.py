"""Notifications: one in-app message per person per event, and an outbox for outside channels.

`notify` writes everything inside the caller's transaction: the in-app rows and one
Delivery row per outside send. Sending happens after commit in Celery; when the broker
is down at commit time the rows wait as `pending` and the minute sweep queues them.
"""
import dataclasses
import datetime as dt
import json
import logging
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone, translation

from salesflow import i18n

from audit.services import audit_record
from salesflow.memo import memo_get
from salesflow.org.models import Member
from salesflow.org.selectors import tenant_settings_get

from .models import Channel, Delivery, Notification
from .transports import Message, PermanentFailure, TemporaryFailure, send_dingtalk, send_email, send_wecom

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
BACKOFF_SECONDS = (30, 120, 600, 1800, 3600)
SWEEP_AFTER = dt.timedelta(minutes=1)
STALE_SENDING_AFTER = dt.timedelta(minutes=10)
SWEEP_BATCH = 500


class NotifyOutsideTransaction(RuntimeError):
    pass


def _user_ids(recipients: Iterable) -> list[int]:
    seen: dict[int, None] = {}
    for recipient in recipients:
        if recipient is None:
            continue
        seen[recipient if isinstance(recipient, int) else recipient.pk] = None
    return list(seen)


def absolute_link(link: str) -> str:
    """A path made absolute on the current tenant's primary host, for messages read outside the app."""
    if not link.startswith("/"):
        return link
    tenant = getattr(connection, "tenant", None)
    domain = tenant.get_primary_domain() if tenant is not None and hasattr(tenant, "get_primary_domain") else None
    if domain is None:
        return link
    if settings.DEBUG:
        return f"http://{domain.domain}:8000{link}"
    return f"https://{domain.domain}{link}"


def notify(
    *,
    recipients,
    event_key: str,
    title: dict,
    body: dict | None = None,
    link: str = "",
    kind: str = "info",
    payload: dict | None = None,
) -> list[Notification]:
    """Notify each recipient once per `event_key`, in-app and through the tenant's channels.

    `title` and `body` are stored messages (salesflow.i18n.message), rendered in each
    reader's language when read or sent. Must run inside the transaction of the change it
    announces. Returns only the notifications this call created: a second call with the
    same key notifies nobody.
    """
    if not isinstance(title, dict) or not (body is None or isinstance(body, dict)):
        raise TypeError("notify takes stored messages (salesflow.i18n.message), not sentences")
    stored = {"title": title, "body": body or {}}
    if not connection.in_atomic_block:
        raise NotifyOutsideTransaction("notify must run inside the transaction of the change it announces")
    user_ids = _user_ids(recipients)
    if not user_ids:
        return []
    table = Notification._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {table} (recipient_id, event_key, kind, title, body, message, link, payload, created_at)
            SELECT r, %s, %s, '', '', %s::jsonb, %s, %s::jsonb, now() FROM unnest(%s::bigint[]) AS r
            ON CONFLICT (event_key, recipient_id) DO NOTHING
            RETURNING id, recipient_id, created_at
            """,
            [event_key[:200], kind[:32], json.dumps(stored, default=str), link[:500],
             json.dumps(payload or {}, default=str), user_ids],
        )
        rows = cursor.fetchall()
    if not rows:
        return []
    # Built from RETURNING: the hot path (a lead assigned at intake) saves a SELECT.
    created = [
        Notification(pk=pk, recipient_id=recipient_id, created_at=created_at, event_key=event_key[:200], kind=kind[:32],
                     title="", body="", message=stored, link=link[:500], payload=payload or {})
        for pk, recipient_id, created_at in sorted(rows)
    ]
    delivery_ids = _outbox_write(created, event_key=event_key, stored=stored, link=link)
    if delivery_ids:
        transaction.on_commit(lambda: deliveries_queue(delivery_ids))
    return created


CHANNELS_MEMO_KEY = "notifications:enabled-channels"


def channels_enabled() -> list[Channel]:
    """The tenant's enabled channels, remembered per process for a few seconds (the channel admin
    forgets them on change): every assignment asks."""
    return memo_get(CHANNELS_MEMO_KEY, lambda: list(Channel.objects.filter(enabled=True).order_by("pk")))


def _outbox_write(created: list[Notification], *, event_key: str, stored: dict, link: str) -> list[int]:
    channels = channels_enabled()
    if not channels:
        return []
    rows = []
    full_link = absolute_link(link)
    users = get_user_model().objects.select_related("member").in_bulk([n.recipient_id for n in created])
    for channel in channels:
        if channel.kind == Channel.Kind.EMAIL:
            for notification in created:
                email = users[notification.recipient_id].email
                if email:
                    rows.append((channel.pk, email.lower(), notification.pk, stored))
        else:
            # A group robot posts once per event, naming everyone it concerns.
            names = ", ".join(_display_name(users[n.recipient_id]) for n in created)
            robot_body = i18n.message("notifications.robot_body", body=i18n.nested(stored["body"]), names=names)
            rows.append((channel.pk, f"robot:{channel.pk}", created[0].pk, {"title": stored["title"], "body": robot_body}))
    if not rows:
        return []
    table = Delivery._meta.db_table
    ids = []
    with connection.cursor() as cursor:
        for channel_id, target, notification_id, content in rows:
            cursor.execute(
                f"""
                INSERT INTO {table} (event_key, channel_id, target, notification_id, subject, text, message, link,
                                     status, attempts, last_error, created_at, next_attempt_at)
                VALUES (%s, %s, %s, %s, '', '', %s::jsonb, %s, 'pending', 0, '', now(), now())
                ON CONFLICT (event_key, channel_id, target) DO NOTHING
                RETURNING id
                """,
                [event_key[:200], channel_id, target[:254], notification_id, json.dumps(content, default=str),
                 full_link[:500]],
            )
            row = cursor.fetchone()
            if row:
                ids.append(row[0])
    return ids


def _display_name(user) -> str:
    member = getattr(user, "member", None)
    return member.full_name if member is not None else user.get_username()


def deliveries_queue(delivery_ids: list[int]) -> int:
    """Hand deliveries to Celery; a broker that is down loses nothing (the sweep re-queues)."""
    from .tasks import delivery_send_task

    queued = 0
    for delivery_id in delivery_ids:
        try:
            delivery_send_task.apply_async((delivery_id,), retry=False)
            queued += 1
        except Exception as exc:  # kombu raises several families of errors; all mean "not queued now"
            logger.warning("delivery %s not queued (%s); the sweep will retry", delivery_id, exc)
            break
    return queued


@dataclasses.dataclass(frozen=True)
class SendOutcome:
    status: str
    retry_in: int | None = None
    error: str = ""


def tenant_default_language() -> str:
    return tenant_settings_get().default_language or settings.LANGUAGE_CODE


def delivery_language(delivery: Delivery) -> str:
    """The language a delivery is read in: its recipient's choice for an e-mail, else the tenant's default."""
    if delivery.channel.kind == Channel.Kind.EMAIL and delivery.notification_id:
        chosen = (
            Member.objects.filter(user__notifications=delivery.notification_id).values_list("language", flat=True).first()
        )
        if chosen:
            return chosen
    return tenant_default_language()


def _message_for(delivery: Delivery) -> Message:
    with translation.override(delivery_language(delivery)), timezone.override(tenant_settings_get().tzinfo):
        return Message(subject=delivery.subject_text[:200], text=delivery.body_text, link=delivery.link)


def _transport(channel: Channel, *, target: str, message: Message) -> None:
    if channel.kind == Channel.Kind.EMAIL:
        send_email(address=target, message=message)
    elif channel.kind == Channel.Kind.DINGTALK:
        send_dingtalk(webhook_url=channel.webhook_url, secret=channel.secret, message_format=channel.message_format, message=message)
    elif channel.kind == Channel.Kind.WECOM:
        send_wecom(webhook_url=channel.webhook_url, message_format=channel.message_format, message=message)
    else:
        raise PermanentFailure(f"unknown channel kind {channel.kind!r}")


def delivery_send(*, delivery_id: int, now: dt.datetime | None = None) -> SendOutcome:
    """Send one delivery at most once: claim it (pending → sending) first, then send.

    A second worker, a re-queued message or the sweep finds the row no longer pending
    and leaves. A crash between sending and recording leaves the row in `sending`,
    which the sweep turns into a visible failure rather than risk a second send.
    """
    now = now or timezone.now()
    claimed = Delivery.objects.filter(pk=delivery_id, status=Delivery.Status.PENDING).update(
        status=Delivery.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1
    )
    if not claimed:
        return SendOutcome(status="skipped")
    delivery = Delivery.objects.select_related("channel").get(pk=delivery_id)
    if not delivery.channel.enabled:
        return _finish(delivery, Delivery.Status.FAILED, error="channel disabled before sending")
    try:
        _transport(delivery.channel, target=delivery.target, message=_message_for(delivery))
    except TemporaryFailure as exc:
        if delivery.attempts >= MAX_ATTEMPTS:
            return _finish(delivery, Delivery.Status.FAILED, error=f"gave up after {delivery.attempts} attempts: {exc}")
        delay = BACKOFF_SECONDS[min(delivery.attempts - 1, len(BACKOFF_SECONDS) - 1)]
        Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.SENDING).update(
            status=Delivery.Status.PENDING, next_attempt_at=now + dt.timedelta(seconds=delay), last_error=str(exc)[:2000]
        )
        return SendOutcome(status="retry", retry_in=delay, error=str(exc))
    except PermanentFailure as exc:
        return _finish(delivery, Delivery.Status.FAILED, error=str(exc))
    return _finish(delivery, Delivery.Status.SENT, sent_at=timezone.now())


def _finish(delivery: Delivery, status: str, *, error: str = "", sent_at=None) -> SendOutcome:
    fields = {"status": status, "sent_at": sent_at}
    if error:
        fields["last_error"] = error[:2000]
        logger.warning("delivery %s (%s) failed: %s", delivery.pk, delivery.channel, error)
    Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.SENDING).update(**fields)
    return SendOutcome(status=status, error=error)


def deliveries_sweep(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Re-queue deliveries still pending a minute after they were due; fail those stuck mid-send."""
    now = now or timezone.now()
    table = Delivery._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        # Moving next_attempt_at forward means each row is re-queued at most once a minute.
        cursor.execute(
            f"""
            UPDATE {table} SET next_attempt_at = %s
            WHERE id IN (SELECT id FROM {table} WHERE status = 'pending' AND next_attempt_at <= %s
                         ORDER BY next_attempt_at LIMIT %s FOR UPDATE SKIP LOCKED)
            RETURNING id
            """,
            [now, now - SWEEP_AFTER, SWEEP_BATCH],
        )
        due = [row[0] for row in cursor.fetchall()]
        stuck = Delivery.objects.filter(status=Delivery.Status.SENDING, claimed_at__lt=now - STALE_SENDING_AFTER).update(
            status=Delivery.Status.FAILED,
            last_error="interrupted while sending: outcome unknown, not re-sent automatically (retry from admin)",
        )
    queued = deliveries_queue(due) if due else 0
    return {"due": len(due), "queued": queued, "stuck": stuck}


def delivery_retry(*, actor, delivery: Delivery) -> bool:
    """An admin's decision to try a failed delivery again."""
    with transaction.atomic():
        changed = Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.FAILED).update(
            status=Delivery.Status.PENDING, next_attempt_at=timezone.now(), attempts=0
        )
        if changed:
            audit_record(actor=actor, verb="notification_delivery.retried", target=delivery, payload={"event_key": delivery.event_key})
            transaction.on_commit(lambda: deliveries_queue([delivery.pk]))
    return bool(changed)


def channel_test_send(*, actor, channel: Channel) -> SendOutcome:
    """Send a test message through `channel` right now (to the admin's own address for e-mail)."""
    with translation.override(tenant_default_language()):
        message = Message(
            subject=i18n.render(i18n.message("notifications.test_subject")),
            text=i18n.render(i18n.message("notifications.test_body", channel=channel.name)),
            link=absolute_link("/notifications/"),
        )
    target = getattr(actor, "email", "") if channel.kind == Channel.Kind.EMAIL else f"robot:{channel.pk}"
    try:
        if not target:
            raise PermanentFailure("your user has no e-mail address to test with")
        _transport(channel, target=target, message=message)
        outcome = SendOutcome(status=Delivery.Status.SENT)
    except (TemporaryFailure, PermanentFailure) as exc:
        outcome = SendOutcome(status=Delivery.Status.FAILED, error=str(exc))
    with transaction.atomic():
        audit_record(
            actor=actor, verb="notification_channel.tested", target=channel,
            payload={"status": outcome.status, "error": outcome.error},
        )
    return outcome


def notification_mark_read(*, user, notification_ids: list[int] | None = None) -> int:
    """Mark the user's own notifications read (all unread ones when no ids are given)."""
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if notification_ids is not None:
        qs = qs.filter(pk__in=notification_ids)
    return qs.update(read_at=timezone.now())
