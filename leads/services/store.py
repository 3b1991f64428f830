"""A new lead written in one statement with everything that names it: its routing decision, its new
owner's notification and the intake's audit entry.

Their ids were reserved before (with the slot, leads.services.pick, or by `lead_ids_reserve`), so
each row is complete in Python — the notification and the audit entry are prepared by their own
services exactly as `notify` and `audit_record` would write them — and one round trip stores them
all. The audit steps come last in the statement and lock the chain head, as `audit_record` would as
the intake's last write.
"""
import datetime as dt
import json

from django.db import connection

from audit.services import APPEND_CTES, APPENDED_COLUMNS, PendingEntry
from salesflow.notifications.services import INSERT_SQL as NOTIFICATION_INSERT_SQL, PendingNotification

from ..models import Lead, RoutingDecision
from .pick import RESERVE_IDS

_STATEMENTS: dict[bool, str] = {}


def _fields(model) -> list:
    return [f for f in model._meta.local_concrete_fields if not f.generated]


def _statement(notified: bool) -> str:
    if notified not in _STATEMENTS:
        steps = []
        for name, model in (("lead", Lead), ("decision", RoutingDecision)):
            columns = ", ".join(f.column for f in _fields(model))
            steps.append(f"new_{name} AS (INSERT INTO {model._meta.db_table} ({columns}) "
                        f"SELECT {columns} FROM jsonb_populate_record(NULL::{model._meta.db_table}, %({name})s::jsonb))")
        if notified:
            steps.append(f"notified AS ({NOTIFICATION_INSERT_SQL})")
        steps.append(APPEND_CTES)
        columns = APPENDED_COLUMNS + (", notified.id, notified.recipient_id, notified.created_at" if notified else "")
        _STATEMENTS[notified] = (f"WITH {', '.join(steps)} SELECT {columns} FROM appended"
                                 + (" LEFT JOIN notified ON true" if notified else ""))
    return _STATEMENTS[notified]


def _row(obj) -> str:
    """The object's row as one JSON object, which jsonb_populate_record reads into the table's column
    types: one parameter per row, where one per column made the statement too long for psycopg to
    keep its conversion (it parses a statement of more than 50 parameters again at every run)."""
    return json.dumps({f.column: getattr(obj, f.attname) for f in _fields(type(obj))}, default=_iso_text, ensure_ascii=False)


def _iso_text(value) -> str:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()  # microseconds and offset kept: PostgreSQL reads it as it was
    raise TypeError(f"{type(value).__name__} is not a lead or decision column type")


def lead_ids_reserve() -> tuple[int, int]:
    """Ids for a new lead and its decision when no slot was taken (the pick reserves them otherwise)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {RESERVE_IDS}")
        return cursor.fetchone()


def lead_store(lead: Lead, decision: RoutingDecision, *, notification: PendingNotification | None,
               audit: PendingEntry) -> None:
    """Insert the routed lead (its id reserved), its decision, the notification if any, and append the
    audit entry, in one statement; the objects are saved ones afterwards."""
    params = {"lead": _row(lead), "decision": _row(decision), **audit.params, **(notification.params if notification else {})}
    with connection.cursor() as cursor:
        cursor.execute(_statement(notification is not None), params)
        rows = cursor.fetchall()
    for obj in (lead, decision):
        obj._state.adding, obj._state.db = False, connection.alias
    if notification is not None:
        notification.sent([row[5:] for row in rows if row[5] is not None])
