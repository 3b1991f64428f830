"""The readable side of a record: what each entry says, and the touches of key people per
month against the count the tender asks for. Computed from the sealed entries alone, with
names looked up for display (the entries carry ids)."""
import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext as _

from followups.models import Contact, FollowUpKind, Stage
from forecasting.models import EvidenceSource

from salesflow.formatting import format_datetime

from ..labels import actor_label, verb_label
from .selectors import TOUCH_VERB, RecordEntry



@dataclass
class PersonRow:
    contact_id: int
    name: str
    role: str
    per_month: list[int]

    @property
    def total(self) -> int:
        return sum(self.per_month)


@dataclass
class RecordSummary:
    months: list[str]
    people: list[PersonRow]
    touches: int  # follow-ups logged in the record
    key_touches: int  # of those that happened in the period, the ones touching at least one key person
    required: int
    per_month_key_touches: list[int] = field(default_factory=list)
    outside_period: int = 0  # follow-ups logged in the period about touches that happened before it

    @property
    def met(self) -> bool:
        return self.key_touches >= self.required


def _months(first: dt.date, last: dt.date) -> list[str]:
    months, year, month = [], first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def touch_time(entry: RecordEntry) -> dt.datetime:
    """When the touch happened (a follow-up may be logged days later); the log time if not said."""
    occurred = entry.content.get("payload", {}).get("occurred_at")
    return dt.datetime.fromisoformat(occurred) if occurred else entry.at


def record_summary(*, entries: list[RecordEntry], account, since, until, required: int) -> RecordSummary:
    """Key-person touches per person and month, by when each touch happened, in the current
    (the tenant's) time zone. The months span the period asked for (or, without a start, the
    first touch or entry); a touch before the period is left out of every figure, so each
    row's months add up to its total and the months of the last row to the count checked."""
    touches = [e for e in entries if e.content.get("verb") == TOUCH_VERB]
    touch_days = {e.seq: timezone.localtime(touch_time(e)).date() for e in touches}
    today = timezone.localdate()
    known_days = list(touch_days.values()) + [timezone.localtime(e.at).date() for e in entries]
    first = since or (min(known_days) if known_days else today)
    last = until or max([today, *known_days])
    months = _months(first, last)
    key_people = {c.pk: c for c in Contact.objects.filter(account=account, is_key_person=True)}
    counts: dict[int, Counter] = {pk: Counter() for pk in key_people}
    per_month_key = Counter()
    outside = 0
    for entry in touches:
        day = touch_days[entry.seq]
        if not first <= day <= last:
            outside += 1
            continue
        month = day.strftime("%Y-%m")
        touched_keys = [pk for pk in entry.content.get("payload", {}).get("contacts", []) if pk in key_people]
        for pk in touched_keys:
            counts[pk][month] += 1
        if touched_keys:
            per_month_key[month] += 1
    people = [
        PersonRow(contact_id=pk, name=c.name, role=c.get_role_display(),
                  per_month=[counts[pk][m] for m in months])
        for pk, c in key_people.items()
    ]
    people.sort(key=lambda row: (-row.total, row.name))
    per_month_key_touches = [per_month_key[m] for m in months]
    return RecordSummary(
        months=months, people=people, touches=len(touches), key_touches=sum(per_month_key_touches),
        required=required, per_month_key_touches=per_month_key_touches, outside_period=outside,
    )


class Describer:
    """Readable lines for entries, in the active language; names fetched once per record."""

    def __init__(self, entries: list[RecordEntry]):
        contact_ids, user_ids = set(), set()
        for entry in entries:
            payload = entry.content.get("payload", {})
            contact_ids.update(pk for pk in payload.get("contacts", []) if isinstance(pk, int))
            if entry.content.get("actor_id"):
                user_ids.add(entry.content["actor_id"])
        self.contacts = {c.pk: c for c in Contact.objects.filter(pk__in=contact_ids)}
        self.stages = {s.code: s.name for s in Stage.objects.all()} | {str(s.pk): s.name for s in Stage.objects.all()}
        self.people = {
            u.pk: (getattr(getattr(u, "member", None), "full_name", "") or u.get_username())
            for u in get_user_model().objects.filter(pk__in=user_ids).select_related("member")
        }
        self.kinds = dict(FollowUpKind.choices)

    def actor(self, entry: RecordEntry) -> str:
        content = entry.content
        return self.people.get(content.get("actor_id")) or actor_label(content.get("actor", ""))

    def action(self, entry: RecordEntry) -> str:
        return verb_label(entry.content.get("verb", ""))

    def details(self, entry: RecordEntry) -> str:
        content = entry.content
        payload = content.get("payload", {})
        verb = content.get("verb", "")
        parts = []
        if verb == TOUCH_VERB:
            parts.append(str(self.kinds.get(payload.get("kind"), payload.get("kind", ""))))
            if payload.get("occurred_at"):
                occurred = dt.datetime.fromisoformat(payload["occurred_at"])
                parts.append(_("happened %(when)s") % {"when": format_datetime(occurred, "short")})
            names = [self.contacts[pk].name for pk in payload.get("contacts", []) if pk in self.contacts]
            if names:
                parts.append(_("with %(names)s") % {"names": "、".join(names)})
            if payload.get("summary"):
                parts.append(payload["summary"])
        elif verb == "opportunity.stage_changed":
            before = self.stages.get(str(payload.get("from")), "—")
            parts.append(f"{before} → {self.stages.get(str(payload.get('to')), payload.get('to', ''))}")
            if payload.get("lost_reason"):
                parts.append(payload["lost_reason"])
        elif verb == "evidence.added":
            parts.append(str(EvidenceSource(payload["source"]).label) if payload.get("source") in EvidenceSource.values
                         else str(payload.get("source", "")))
            parts.append(_("%(points)s points") % {"points": payload.get("points", 0)})
        elif verb in ("evidence.downgraded", "evidence.rejected"):
            parts.append(_("%(before)s → %(after)s points") % {
                "before": payload.get("points_before", ""), "after": payload.get("points_after", "")})
        elif verb == "prepayment.recorded":
            parts.append(f"{payload.get('amount', '')} {payload.get('currency', '')}".strip())
            if payload.get("reference"):
                parts.append(_("reference %(reference)s") % {"reference": payload["reference"]})
        elif verb == "gate.refused":
            parts.append(f"{self.stages.get(str(payload.get('from')), '—')} → {self.stages.get(str(payload.get('to')), '')}")
            parts.append(_("credit %(credit)s") % {"credit": payload.get("credit", "")})
        elif verb == "contact.created":
            parts.append(str(payload.get("name", "")))
        elif verb in ("account.created",):
            parts.append(str(payload.get("name", "")))
        if content.get("reason"):
            parts.append(_("reason: %(reason)s") % {"reason": content["reason"]})
        return " · ".join(p for p in parts if p)
