"""Many leads at once: each item is its own transaction and its own audit entry, and the
caller gets, per lead, whether it worked and why not (one refusal stops nothing else)."""
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError

from ..models import Lead
from .actions import LeadStateConflict, lead_reassign
from .pool import ClaimRefused, lead_claim

BULK_LIMIT = 200


@dataclass(frozen=True)
class BulkOutcome:
    item_id: int
    label: str
    ok: bool
    message: str = ""


def _reason(exc: Exception) -> str:
    return "; ".join(getattr(exc, "messages", None) or [str(exc)])


def leads_bulk_reassign(*, actor, leads: list[Lead], new_owner, reason: str) -> list[BulkOutcome]:
    """A manager hands each lead to `new_owner` through lead_reassign (its rules and audit)."""
    outcomes = []
    for lead in leads[:BULK_LIMIT]:
        try:
            lead_reassign(actor=actor, lead=lead, new_owner=new_owner, reason=reason)
        except (LeadStateConflict, ValidationError, PermissionDenied) as exc:
            outcomes.append(BulkOutcome(lead.pk, str(lead), False, _reason(exc)))
        else:
            outcomes.append(BulkOutcome(lead.pk, str(lead), True))
    return outcomes


def leads_bulk_claim(*, actor, leads: list[Lead]) -> list[BulkOutcome]:
    """A rep claims each pool lead through lead_claim: cooling period, capacity and races apply per lead."""
    outcomes = []
    for lead in leads[:BULK_LIMIT]:
        try:
            lead_claim(actor=actor, lead=lead)
        except ClaimRefused as exc:
            outcomes.append(BulkOutcome(lead.pk, str(lead), False, _reason(exc)))
        else:
            outcomes.append(BulkOutcome(lead.pk, str(lead), True))
    return outcomes
