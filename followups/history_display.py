"""History rows in the reader's language: field names and values are rendered when read."""
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from salesflow.formatting import format_amount, format_datetime
from salesflow.org.vocabularies import vocabulary_label

from .models import Account, Contact, ContactRole, Opportunity, RecordChange, RecordKind

VOCABULARY_FIELDS = ("industry", "region", "tier", "product_line")
MODELS = {RecordKind.ACCOUNT: Account, RecordKind.CONTACT: Contact, RecordKind.OPPORTUNITY: Opportunity}


@dataclass
class HistoryLine:
    change: RecordChange
    record: str
    field: str
    old: str
    new: str


def _names(rows: list[RecordChange]) -> tuple[dict, dict]:
    user_ids, account_ids = set(), set()
    for row in rows:
        ids = {v for v in (row.old_value, row.new_value) if isinstance(v, int)}
        if row.field == "owner":
            user_ids |= ids
        elif row.field == "account":
            account_ids |= ids
    users = {
        pk: full_name or username
        for pk, username, full_name in get_user_model().objects.filter(pk__in=user_ids)
        .values_list("id", "username", "member__full_name")
    } if user_ids else {}
    accounts = dict(Account.objects.filter(pk__in=account_ids).values_list("id", "name")) if account_ids else {}
    return users, accounts


def _value(field: str, value, users: dict, accounts: dict) -> str:
    if value is None or value == "":
        return "—"
    if field == "owner":
        return users.get(value, f"#{value}")
    if field == "account":
        return accounts.get(value, f"#{value}")
    if field == "amount":
        return "¥" + format_amount(value)
    if field == "expected_close":
        parsed = parse_date(str(value))
        return format_datetime(parsed, "date") if parsed else str(value)
    if field in VOCABULARY_FIELDS:
        return vocabulary_label(field, str(value))
    if field == "role":
        return str(ContactRole(value).label) if value in ContactRole.values else str(value)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return str(value)


def _field_label(record_type: str, field: str) -> str:
    model = MODELS.get(record_type)
    try:
        return str(model._meta.get_field(field).verbose_name)
    except Exception:  # a field since removed from the model: show its code
        return field


def history_lines(rows: list[RecordChange]) -> list[HistoryLine]:
    users, accounts = _names(rows)
    return [
        HistoryLine(
            change=row, record=str(RecordKind(row.record_type).label) if row.record_type in RecordKind.values else row.record_type,
            field=_field_label(row.record_type, row.field),
            old=_value(row.field, row.old_value, users, accounts), new=_value(row.field, row.new_value, users, accounts),
        )
        for row in rows
    ]
