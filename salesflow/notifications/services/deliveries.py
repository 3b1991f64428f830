"""Sending the outbox: at least once through every outside channel, never silently lost.

The guarantee, per Delivery row (one message to one target through one channel):

- It is written in the transaction of the event, so a commit always leaves it `pending`.
- After commit it is kicked to Celery without waiting on the broker (`salesflow.broker`).
  `next_attempt_at` says when the minute sweep queues it if no kick got through (a minute
  after it was written, or when a retry is due), and is pushed a minute on at each queueing.
- A worker claims it (`pending` → `sending`, stamping `claimed_at`) before sending; a second
  message for the same row finds it claimed and leaves.
- The claim is a lease of `LEASE`. A send whose outcome is unknown — no answer after the
  message went out, or a worker killed mid-send that never recorded anything — is sent
  again after the lease, with the same reference (SF-<id>) in the message, so a reader who
  gets it twice can tell. Each try counts towards `MAX_ATTEMPTS`.
- After `MAX_ATTEMPTS` tries, or a permanent failure, it is `failed`: counted on the admin
  index and in the admins' inbox, and re-sendable from the admin (audited).
"""
import dataclasses
import datetime as dt
import logging

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone, translation

from audit.services import audit_record
from salesflow.broker import kick_many
from salesflow.org.models import Member
from salesflow.org.selectors import tenant_settings_get

from ..errors import OutcomeUnknown, PermanentFailure, TemporaryFailure
from ..markup import markdown_html
from ..models import Channel, Delivery
from ..transports import Message, send_dingtalk, send_email, send_wecom

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
BACKOFF_SECONDS = (30, 120, 600, 1800, 3600)
# A new row's kick goes first; the sweep's turn comes this long after.
KICK_GRACE = dt.timedelta(minutes=1)
# Longer than any send can take: the task is killed after SEND_TIME_LIMIT seconds.
SEND_TIME_LIMIT = 60
LEASE = dt.timedelta(minutes=2)
SWEEP_BATCH = 500


@dataclasses.dataclass(frozen=True)
class SendOutcome:
    status: str
    retry_in: int | None = None
    error: str = ""


def deliveries_queue(delivery_ids: list[int]) -> int:
    """Kick deliveries to Celery; a broker that is away costs milliseconds and loses nothing."""
    from ..tasks import delivery_send_task

    return kick_many(delivery_send_task, [(delivery_id,) for delivery_id in delivery_ids])


def delivery_ref(delivery: Delivery) -> str:
    return f"SF-{delivery.pk}"


def _message_id(delivery: Delivery) -> str:
    return f"<{delivery_ref(delivery).lower()}.{connection.schema_name}@salesflow>"


def transport_send(channel: Channel, *, target: str, message: Message, message_id: str = "") -> None:
    if channel.kind == Channel.Kind.EMAIL:
        send_email(address=target, message=message, message_id=message_id)
    elif channel.kind == Channel.Kind.DINGTALK:
        send_dingtalk(webhook_url=channel.webhook_url, secret=channel.secret, message_format=channel.message_format, message=message)
    elif channel.kind == Channel.Kind.WECOM:
        send_wecom(webhook_url=channel.webhook_url, message_format=channel.message_format, message=message)
    else:
        raise PermanentFailure(f"unknown channel kind {channel.kind!r}")


def delivery_send(*, delivery_id: int, now: dt.datetime | None = None) -> SendOutcome:
    """Claim one delivery (pending → sending) and send it; record what happened."""
    now = now or timezone.now()
    claimed = Delivery.objects.filter(pk=delivery_id, status=Delivery.Status.PENDING).update(
        status=Delivery.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1
    )
    if not claimed:
        return SendOutcome(status="skipped")
    delivery = Delivery.objects.select_related("channel").get(pk=delivery_id)
    if not delivery.channel.enabled:
        return _finish(delivery, Delivery.Status.FAILED, error="channel disabled before sending")
    message = _message_for(delivery)
    try:
        transport_send(delivery.channel, target=delivery.target, message=message, message_id=_message_id(delivery))
    except TemporaryFailure as exc:
        return _retry_later(delivery, exc)
    except PermanentFailure as exc:
        return _finish(delivery, Delivery.Status.FAILED, error=str(exc))
    return _finish(delivery, Delivery.Status.SENT, sent_at=timezone.now())


def _retry_later(delivery: Delivery, exc: TemporaryFailure) -> SendOutcome:
    unknown = isinstance(exc, OutcomeUnknown)
    error = f"outcome unknown, re-sent as {delivery_ref(delivery)}: {exc}" if unknown else str(exc)
    if delivery.attempts >= MAX_ATTEMPTS:
        return _finish(delivery, Delivery.Status.FAILED, error=f"gave up after {delivery.attempts} attempts: {error}")
    delay = BACKOFF_SECONDS[min(delivery.attempts - 1, len(BACKOFF_SECONDS) - 1)]
    if unknown:  # it may have arrived: never sooner than the lease, like a worker that died
        delay = max(delay, int(LEASE.total_seconds()))
    Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.SENDING, claimed_at=delivery.claimed_at).update(
        status=Delivery.Status.PENDING, next_attempt_at=delivery.claimed_at + dt.timedelta(seconds=delay),
        last_error=error[:2000],
    )
    return SendOutcome(status="retry", retry_in=delay, error=error)


def _finish(delivery: Delivery, status: str, *, error: str = "", sent_at=None) -> SendOutcome:
    fields = {"status": status, "sent_at": sent_at}
    if error:
        fields["last_error"] = error[:2000]
        logger.warning("delivery %s (%s) failed: %s", delivery.pk, delivery.channel, error)
    # Only our own claim: after a lease expired another worker may hold the row now.
    Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.SENDING, claimed_at=delivery.claimed_at).update(**fields)
    return SendOutcome(status=status, error=error)


def deliveries_sweep(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Release expired leases, then queue every pending row that is due (a minute later again if lost)."""
    now = now or timezone.now()
    table = Delivery._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {table} SET
                status = CASE WHEN attempts >= %s THEN 'failed' ELSE 'pending' END,
                next_attempt_at = %s,
                last_error = CASE WHEN attempts >= %s
                    THEN 'gave up after ' || attempts || ' attempts: outcome unknown, interrupted while sending'
                    ELSE 'outcome unknown, interrupted while sending: re-sent as SF-' || id END
            WHERE id IN (SELECT id FROM {table} WHERE status = 'sending' AND claimed_at < %s
                         ORDER BY claimed_at LIMIT %s FOR UPDATE SKIP LOCKED)
            RETURNING status
            """,
            [MAX_ATTEMPTS, now, MAX_ATTEMPTS, now - LEASE, SWEEP_BATCH],
        )
        expired = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            f"""
            UPDATE {table} SET next_attempt_at = %s
            WHERE id IN (SELECT id FROM {table} WHERE status = 'pending' AND next_attempt_at <= %s
                         ORDER BY next_attempt_at LIMIT %s FOR UPDATE SKIP LOCKED)
            RETURNING id
            """,
            [now + KICK_GRACE, now, SWEEP_BATCH],
        )
        due = [row[0] for row in cursor.fetchall()]
    queued = deliveries_queue(due) if due else 0
    return {"due": len(due), "queued": queued, "released": expired.count("pending"), "failed": expired.count("failed")}


def delivery_retry(*, actor, delivery: Delivery) -> bool:
    """An admin's decision to send a failed delivery again (a fresh budget of attempts)."""
    with transaction.atomic():
        changed = Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.FAILED).update(
            status=Delivery.Status.PENDING, next_attempt_at=timezone.now() + KICK_GRACE, attempts=0
        )
        if changed:
            audit_record(actor=actor, verb="notification_delivery.retried", target=delivery,
                         payload={"event_key": delivery.event_key, "ref": delivery_ref(delivery)})
            transaction.on_commit(lambda: deliveries_queue([delivery.pk]))
    return bool(changed)


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
    """The delivery's stored message rendered now, in its reader's language and the tenant's time zone."""
    with translation.override(delivery_language(delivery)), timezone.override(tenant_settings_get().tzinfo):
        text = delivery.body_text
        html = ""
        if delivery.channel.kind == Channel.Kind.EMAIL and (delivery.message or {}).get("format") == "markdown":
            html = markdown_html(text, link=delivery.link, ref=delivery_ref(delivery))
        return Message(subject=delivery.subject_text[:200], text=text, link=delivery.link,
                       ref=delivery_ref(delivery), html=html)
