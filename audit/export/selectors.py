"""What a customer interaction record holds: every log entry touching one account."""
import datetime as dt
import json
from dataclasses import dataclass
from functools import cached_property

from django.db.models import Case, DateTimeField, Q, When
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast

from followups.models import Account, Contact, FollowUp, Opportunity, Task
from forecasting.models import CustomerConfirmation, Evidence, Prepayment
from salesflow.org.scoping import is_admin, visible_user_ids
from salesflow.org.selectors import tenant_settings_get

from ..models import AuditEntry

TOUCH_VERB = "followup.logged"


@dataclass(frozen=True)
class RecordEntry:
    seq: int
    entry_hash: str
    canonical: str

    @property
    def leaf_index(self) -> int:
        return self.seq - 1

    @cached_property
    def content(self) -> dict:
        return json.loads(self.canonical)

    @property
    def at(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.content["created_at"])


def account_targets(account: Account) -> Q:
    """The log entries about this account, its people, deals, touches, tasks, evidence and source leads."""
    opportunities = list(Opportunity.objects.filter(account=account).values_list("pk", "source_lead_id"))
    opportunity_ids = [pk for pk, _ in opportunities]
    lead_ids = {lead for _, lead in opportunities if lead} | ({account.source_lead_id} if account.source_lead_id else set())
    targets = {
        "followups.account": [account.pk],
        "followups.contact": list(Contact.objects.filter(account=account).values_list("pk", flat=True)),
        "followups.opportunity": opportunity_ids,
        "followups.followup": list(FollowUp.objects.filter(account=account).values_list("pk", flat=True)),
        "followups.task": list(Task.objects.filter(opportunity_id__in=opportunity_ids).values_list("pk", flat=True)),
        "leads.lead": sorted(lead_ids),
        # Evidence under the labels `audit_record(target=…)` gives it: added (`evidence.added`) and
        # reviewed (`evidence.downgraded` / `evidence.rejected`, the review's id in the payload) both
        # target the evidence row. Prepayments and customer confirmations have entries of their own.
        "forecasting.evidence": list(Evidence.objects.filter(opportunity_id__in=opportunity_ids).values_list("pk", flat=True)),
        "forecasting.prepayment": list(Prepayment.objects.filter(opportunity_id__in=opportunity_ids).values_list("pk", flat=True)),
        "forecasting.customerconfirmation": list(
            CustomerConfirmation.objects.filter(opportunity_id__in=opportunity_ids).values_list("pk", flat=True)
        ),
    }
    condition = Q(pk__in=[])
    for target_type, ids in targets.items():
        if ids:
            condition |= Q(target_type=target_type, target_id__in=[str(pk) for pk in ids])
    return condition


def _day_bounds(since: dt.date | None, until: dt.date | None):
    """The period's days in the tenant's time zone (a worker's current zone is the server's)."""
    zone = tenant_settings_get().tzinfo
    start = dt.datetime.combine(since, dt.time.min, tzinfo=zone) if since else None
    end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min, tzinfo=zone) if until else None
    return start, end


def record_entries(*, account: Account, since=None, until=None, up_to_seq: int) -> list[RecordEntry]:
    """The account's entries sealed in a tree of `up_to_seq` leaves, in chain order: those logged within
    the days given (tenant time), and the follow-ups whose touch happened within them."""
    qs = AuditEntry.objects.filter(account_targets(account), seq__lte=up_to_seq)
    start, end = _day_bounds(since, until)
    logged, happened = Q(), Q(verb=TOUCH_VERB)
    if start:
        logged &= Q(created_at__gte=start)
        happened &= Q(touched_at__gte=start)
    if end:
        logged &= Q(created_at__lt=end)
        happened &= Q(touched_at__lt=end)
    if start or end:
        # A touch that happened in the period counts for it even when it was logged after the period.
        touched_at = Cast(KeyTextTransform("occurred_at", "payload"), DateTimeField())
        qs = qs.annotate(touched_at=Case(When(verb=TOUCH_VERB, then=touched_at), output_field=DateTimeField()))
        qs = qs.filter(logged | happened)
    return [RecordEntry(*row) for row in qs.order_by("seq").values_list("seq", "entry_hash", "canonical")]


def account_exportable_by(*, user, account: Account) -> bool:
    """Owner, a manager whose scope holds the owner, or an admin."""
    if account.owner_id == user.pk or is_admin(user):
        return True
    visible = visible_user_ids(user)
    return visible is None or account.owner_id in visible


def exports_for_account(*, account: Account, limit: int = 5):
    from .models import InteractionExport

    return list(InteractionExport.objects.filter(account=account).defer("archive").select_related("requested_by")[:limit])
