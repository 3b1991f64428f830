"""A lead becomes account + contact + opportunity in one step, keeping its clocks."""
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from forecasting.services.evidence import conversion_credit, evidence_for_conversion
from forecasting.services.gates import opportunity_entry_gate
from leads.models import Lead, LeadStatus
from leads.services import lead_close

from ..models import Account, ContactRole, Opportunity
from .records import account_create, contact_create, opportunity_create, stage_first_open


def lead_convert(
    *,
    actor,
    lead: Lead,
    opportunity_name: str = "",
    amount: Decimal = Decimal("0"),
    contact_role: str = ContactRole.OTHER,
    account: Account | None = None,
) -> Opportunity:
    """Close `lead` as converted and open its opportunity, all or nothing.

    leads' own `lead_close` locks the lead and checks it is open and the actor may close
    it, so a double submit converts once; `Account.source_lead_id` is unique as a second
    guard. The opportunity keeps the lead's id, creation time and first-touch time, so
    speed-to-lead and the lead's touches stay attached to what it became.
    """
    now = timezone.now()
    stage, credit = stage_first_open(), conversion_credit(lead)
    if stage is not None:  # the first stage's gate, if the tenant set one, refused before the lead is touched
        opportunity_entry_gate(actor=actor, to_stage=stage, credit=credit, via="conversion", account=account,
                               name=opportunity_name)
    with transaction.atomic():
        lead_close(actor=actor, lead=lead, outcome=LeadStatus.CONVERTED, reason="converted to an opportunity", now=now)
        lead.refresh_from_db()
        owner = lead.owner or actor
        if account is None:
            account = account_create(
                actor=actor, name=lead.company or lead.contact_name, owner=owner, industry=lead.industry,
                region=lead.region, tier=lead.tier, source_lead_id=lead.pk,
                via="conversion",
            )
        contact_create(
            actor=actor, account=account, name=lead.contact_name, role=contact_role, phone=lead.phone,
            email=lead.email, is_key_person=contact_role in (ContactRole.CIO, ContactRole.PURCHASING), via="conversion",
        )
        opportunity = opportunity_create(
            actor=actor, account=account, owner=owner, amount=amount, product_line=lead.product_line,
            name=opportunity_name or f"{lead.company or lead.contact_name} · {lead.product_line or lead.industry}",
            via="conversion", source_lead_id=lead.pk, first_touch_at=lead.first_touch_at, created_at=now,
            stage=stage, entry_credit=credit,
        )
        # The customer's own submission (web form, intake API) is strong evidence from the start.
        evidence_for_conversion(actor=actor, opportunity=opportunity, lead=lead)
        opportunity.refresh_from_db(fields=["credit_score"])
        audit_record(
            actor=actor, verb="lead.converted_to_opportunity", target=opportunity,
            payload={"lead": lead.pk, "account": account.pk, "lead_received_at": lead.created_at,
                     "first_touch_at": lead.first_touch_at, "channel": lead.channel},
        )
    return opportunity
