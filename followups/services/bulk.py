"""Many opportunities at once: each its own transaction, history and audit entry."""
from django.core.exceptions import PermissionDenied, ValidationError

from leads.services import BULK_LIMIT, BulkOutcome

from ..models import Opportunity
from .editing import opportunity_reassign


def opportunities_bulk_reassign(*, actor, opportunities: list[Opportunity], new_owner, via: str = "bulk") -> list[BulkOutcome]:
    outcomes = []
    for opportunity in opportunities[:BULK_LIMIT]:
        try:
            opportunity_reassign(actor=actor, opportunity=opportunity, new_owner=new_owner, via=via)
        except (ValidationError, PermissionDenied) as exc:
            outcomes.append(BulkOutcome(opportunity.pk, opportunity.name, False, "; ".join(getattr(exc, "messages", None) or [str(exc)])))
        else:
            outcomes.append(BulkOutcome(opportunity.pk, opportunity.name, True))
    return outcomes
