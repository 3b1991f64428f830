"""In-app notifications, and the outbox rows for outside channels written with them.

`notify` writes everything inside the caller's transaction: the in-app rows and one
Delivery row per outside send. After commit the deliveries are kicked to Celery (see
`deliveries.deliveries_queue`); when the broker is away the rows wait as `pending` and the
minute sweep queues them.
"""
import json
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from salesflow import i18n
from salesflow.memo import memo_get

from ..models import Channel, Delivery, Notification
from .deliveries import KICK_GRACE, deliveries_queue


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


@dataclass
class PendingNotification:
    """Notifications ready to insert: `INSERT_SQL` with `params`, sent alone (`notify`) or inside a
    service's own last statement; `created` finishes them from the rows the insert returned."""

    event_key: str
    kind: str
    stored: dict
    link: str
    payload: dict
    params: dict

    def created(self, rows) -> list[Notification]:
        """The notifications the insert created (none when this event was notified before), their
        outbox rows written and queued for after commit."""
        if not rows:
            return []
        # Built from RETURNING: the hot path (a lead assigned at intake) saves a SELECT.
        created = [
            Notification(pk=pk, recipient_id=recipient_id, created_at=created_at, event_key=self.event_key, kind=self.kind,
                         title="", body="", message=self.stored, link=self.link, payload=self.payload)
            for pk, recipient_id, created_at in sorted(rows)
        ]
        delivery_ids = _outbox_write(created, event_key=self.event_key, stored=self.stored, link=self.link)
        if delivery_ids:
            transaction.on_commit(lambda: deliveries_queue(delivery_ids))
        return created

    def sent(self, rows) -> None:
        """As `created`, for a caller that does not want the notifications back: without an enabled
        channel there is no outbox to write, and nothing is built."""
        if rows and channels_enabled():
            self.created(rows)


INSERT_SQL = f"""
    INSERT INTO {Notification._meta.db_table} (recipient_id, event_key, kind, title, body, message, link, payload, created_at)
    SELECT r, %(n_event_key)s, %(n_kind)s, '', '', %(n_message)s::jsonb, %(n_link)s, %(n_payload)s::jsonb, now()
      FROM unnest(%(n_recipients)s::bigint[]) AS r
    ON CONFLICT (event_key, recipient_id) DO NOTHING
    RETURNING id, recipient_id, created_at"""


def notification_prepare(
    *,
    recipients,
    event_key: str,
    title: dict,
    body: dict | None = None,
    link: str = "",
    kind: str = "info",
    payload: dict | None = None,
    markdown: bool = False,
) -> PendingNotification | None:
    """What `notify` inserts: one notification per recipient (None when there is nobody)."""
    if not isinstance(title, dict) or not (body is None or isinstance(body, dict)):
        raise TypeError("notify takes stored messages (salesflow.i18n.message), not sentences")
    stored = {"title": title, "body": body or {}}
    if markdown:  # the body is Markdown: robots post it as such, e-mails get an HTML part made from it
        stored["format"] = "markdown"
    if not connection.in_atomic_block:
        raise NotifyOutsideTransaction("notify must run inside the transaction of the change it announces")
    user_ids = _user_ids(recipients)
    if not user_ids:
        return None
    event_key, kind, link = event_key[:200], kind[:32], link[:500]
    return PendingNotification(
        event_key=event_key, kind=kind, stored=stored, link=link, payload=payload or {},
        params={"n_event_key": event_key, "n_kind": kind, "n_message": json.dumps(stored, default=str), "n_link": link,
                "n_payload": json.dumps(payload or {}, default=str), "n_recipients": user_ids},
    )


def notify(**message) -> list[Notification]:
    """Notify each recipient once per `event_key`, in-app and through the tenant's channels (the
    arguments are notification_prepare's).

    `title` and `body` are stored messages (salesflow.i18n.message), rendered in each
    reader's language when read or sent; `markdown` marks a body written in Markdown. Must run
    inside the transaction of the change it announces. Returns only the notifications this call created: a second call with the
    same key notifies nobody.
    """
    pending = notification_prepare(**message)
    if pending is None:
        return []
    with connection.cursor() as cursor:
        cursor.execute(INSERT_SQL, pending.params)
        return pending.created(cursor.fetchall())


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
            content = {"title": stored["title"], "body": robot_body}
            if "format" in stored:
                content["format"] = stored["format"]
            rows.append((channel.pk, f"robot:{channel.pk}", created[0].pk, content))
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
                VALUES (%s, %s, %s, %s, '', '', %s::jsonb, %s, 'pending', 0, '', now(), now() + %s)
                ON CONFLICT (event_key, channel_id, target) DO NOTHING
                RETURNING id
                """,
                [event_key[:200], channel_id, target[:254], notification_id, json.dumps(content, default=str),
                 full_link[:500], KICK_GRACE],
            )
            row = cursor.fetchone()
            if row:
                ids.append(row[0])
    return ids


def _display_name(user) -> str:
    member = getattr(user, "member", None)
    return member.full_name if member is not None else user.get_username()




def notification_mark_read(*, user, notification_ids: list[int] | None = None) -> int:
    """Mark the user's own notifications read (all unread ones when no ids are given)."""
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if notification_ids is not None:
        qs = qs.filter(pk__in=notification_ids)
    return qs.update(read_at=timezone.now())
