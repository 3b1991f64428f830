"""Writing record history: one RecordChange row per field, in the caller's transaction."""
import datetime as dt
from decimal import Decimal

from django.db import models
from django.utils import timezone

from ..models import RecordChange


def history_value(value):
    """A field value as stored in history: JSON, rendered into words only when read."""
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, Decimal):
        return str(value.quantize(Decimal("0.01")))
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def field_changes(record: models.Model, values: dict) -> dict[str, tuple]:
    """{field: (old, new)} for the fields of `values` that differ from `record`'s (history form)."""
    changes = {}
    for name, new in values.items():
        old = getattr(record, f"{name}_id") if _is_relation(record, name) else getattr(record, name)
        old_json, new_json = history_value(old), history_value(new)
        if old_json != new_json:
            changes[name] = (old_json, new_json)
    return changes


def _is_relation(record: models.Model, name: str) -> bool:
    return record._meta.get_field(name).is_relation


def history_write(
    *, actor, record_type: str, record_id: int, account_id: int, changes: dict[str, tuple], via: str,
    at: dt.datetime | None = None, at_creation: bool = False,
) -> list[RecordChange]:
    at = at or timezone.now()
    user = actor if getattr(actor, "is_authenticated", False) else None
    label = user.get_username() if user else str(actor or "system")
    return RecordChange.objects.bulk_create([
        RecordChange(
            record_type=record_type, record_id=record_id, account_id=account_id, field=name, old_value=old,
            new_value=new, actor_id=user.pk if user else None, actor_label=label, at=at, via=via,
            at_creation=at_creation,
        )
        for name, (old, new) in changes.items()
    ])


def creation_changes(values: dict) -> dict[str, tuple]:
    """The fields a record was created with, as history rows with no old value."""
    return {name: (None, history_value(value)) for name, value in values.items() if value not in (None, "")}
