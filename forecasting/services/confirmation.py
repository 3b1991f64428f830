"""Customer confirmation: the customer confirms a meeting on their own phone, no login.

The link carries a token signed with Django's signing (it names the tenant's schema and
the confirmation row, so it is worthless on another tenant or when altered); the row makes
it single-use and says when it expires. Confirming is strong evidence.
"""
import datetime as dt
import secrets

from django.core import signing
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from salesflow import i18n
from salesflow.notifications.services.inbox import notify

from ..models import CustomerConfirmation, EvidenceSource
from .evidence import evidence_add

SALT = "forecasting.customer-confirmation"
VALID_FOR = dt.timedelta(hours=24)
USER_AGENT_MAX = 300


class ConfirmationInvalid(Exception):
    """Why a confirmation link cannot be used: `reason` is forged, expired or used."""

    def __init__(self, reason: str, confirmation: CustomerConfirmation | None = None):
        super().__init__(reason)
        self.reason = reason
        self.confirmation = confirmation


def confirmation_token(confirmation: CustomerConfirmation) -> str:
    return signing.dumps({"s": connection.schema_name, "c": confirmation.pk, "n": confirmation.nonce}, salt=SALT)


def confirmation_request(*, actor, opportunity, followup=None, now=None) -> tuple[CustomerConfirmation, str]:
    """A confirmation link for the meeting behind `followup` (or the opportunity's latest touch)."""
    if opportunity.owner_id != actor.pk:
        raise PermissionDenied(_("Only the owner asks the customer to confirm."))
    now = now or timezone.now()
    if followup is None:
        followup = opportunity.followups.filter(corrects__isnull=True).order_by("-occurred_at", "-id").first()
    # The page puts the sentence's own full stop after the subject.
    subject = (followup.summary if followup else opportunity.name)[:200].rstrip("。.!！ ")
    met_on = timezone.localdate(followup.occurred_at) if followup else timezone.localdate(now)
    member = getattr(actor, "member", None)
    with transaction.atomic():
        confirmation = CustomerConfirmation.objects.create(
            opportunity=opportunity, followup=followup, rep=actor,
            rep_name=(member.full_name if member else "") or actor.get_username(),
            subject=subject, met_on=met_on, nonce=secrets.token_hex(16), created_at=now, expires_at=now + VALID_FOR,
        )
        audit_record(actor=actor, verb="confirmation.requested", target=confirmation,
                     payload={"opportunity": opportunity.pk, "followup": followup.pk if followup else None,
                              "expires_at": confirmation.expires_at})
    return confirmation, confirmation_token(confirmation)


def _row_for(token: str, *, lock: bool) -> CustomerConfirmation:
    try:
        data = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        raise ConfirmationInvalid("forged") from None
    if not isinstance(data, dict) or data.get("s") != connection.schema_name or not isinstance(data.get("c"), int):
        raise ConfirmationInvalid("forged")
    rows = CustomerConfirmation.objects.select_related("opportunity__account")
    if lock:
        rows = rows.select_for_update(of=("self",))
    confirmation = rows.filter(pk=data["c"]).first()
    if confirmation is None or not secrets.compare_digest(confirmation.nonce, str(data.get("n", ""))):
        raise ConfirmationInvalid("forged")
    return confirmation


def confirmation_lookup(token: str, *, now=None) -> CustomerConfirmation:
    """The confirmation a link names, if it can still be confirmed; ConfirmationInvalid otherwise."""
    confirmation = _row_for(token, lock=False)
    _usable(confirmation, now or timezone.now())
    return confirmation


def _usable(confirmation: CustomerConfirmation, now) -> None:
    if confirmation.confirmed_at is not None:
        raise ConfirmationInvalid("used", confirmation)
    if now >= confirmation.expires_at:
        raise ConfirmationInvalid("expired", confirmation)


def confirmation_confirm(*, token: str, user_agent: str, ip: str | None, now=None) -> CustomerConfirmation:
    """The customer confirms: once, before expiry; strong evidence for the opportunity, the rep is told."""
    now = now or timezone.now()
    with transaction.atomic():
        confirmation = _row_for(token, lock=True)
        _usable(confirmation, now)
        opportunity = confirmation.opportunity
        evidence = evidence_add(
            actor="customer", opportunity_id=opportunity.pk, source=EvidenceSource.CUSTOMER_CONFIRMATION,
            followup=confirmation.followup, created_at=now, payload={"confirmation": confirmation.pk},
        )
        CustomerConfirmation.objects.filter(pk=confirmation.pk).update(
            confirmed_at=now, user_agent=(user_agent or "")[:USER_AGENT_MAX], ip=ip, evidence=evidence,
        )
        notify(
            recipients=[confirmation.rep_id], event_key=f"confirmation:{confirmation.pk}",
            title=i18n.message("evidence.confirmed.title", opp=opportunity.name[:150]),
            body=i18n.message("evidence.confirmed.body", subject=confirmation.subject, date=confirmation.met_on.isoformat(),
                              points=evidence.points),
            link=reverse("followups:opportunity", args=[opportunity.pk]), kind="evidence",
        )
        audit_record(actor="customer", verb="confirmation.confirmed", target=confirmation, at=now,
                     payload={"opportunity": opportunity.pk, "evidence": evidence.pk, "user_agent": (user_agent or "")[:USER_AGENT_MAX],
                              "ip": ip})
    confirmation.refresh_from_db()
    return confirmation
