"""Prepayments (finance users and the finance system's signed webhook) and the delivery
scheduling they unlock."""
import datetime as dt
import hashlib
import hmac
import re
import time
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from audit.services import audit_record
from followups.models import Opportunity
from salesflow import i18n
from salesflow.formatting import format_amount
from salesflow.inputs import text_problem
from salesflow.notifications.services.inbox import notify
from salesflow.org.models import Role
from salesflow.org.scoping import is_manager, role_of, visible_user_ids

from ..models import DeliverySchedule, EvidenceSource, Prepayment
from .evidence import evidence_add

SIGNATURE_WINDOW_SECONDS = 300
MAX_AMOUNT = Decimal("999999999999.99")
_AMOUNT = re.compile(r"^\d{1,12}(\.\d{1,2})?$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
FIELDS = ("opportunity", "amount", "currency", "received_at", "reference")


@dataclass(frozen=True)
class PrepaymentResult:
    prepayment: Prepayment
    created: bool
    credit: int


def signature_check(*, header: str, raw_body: bytes, secret: str | None, now: float | None = None) -> str | None:
    """Why the `X-SalesFlow-Signature` header does not hold for this body; None when it does.

    The header is `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`; older (or
    further ahead) than 300 s is refused, and the comparison is constant-time.
    """
    parts = dict(piece.strip().split("=", 1) for piece in (header or "").split(",") if "=" in piece)
    stamp, given = parts.get("t", ""), parts.get("v1", "")
    if not stamp.isdigit() or not given:
        return _("Missing or malformed X-SalesFlow-Signature header (expected t=<unix seconds>,v1=<hex>).")
    if secret is None:
        return _("This tenant has no finance secret.")
    now = time.time() if now is None else now
    if abs(now - int(stamp)) > SIGNATURE_WINDOW_SECONDS:
        return _("The signature timestamp is more than 300 seconds away from now.")
    expected = hmac.new(secret.encode(), stamp.encode() + b"." + raw_body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, given.lower()):
        return _("The signature does not match the body.")
    return None


def prepayment_payload_validate(data) -> tuple[dict, dict[str, list[str]]]:
    """The webhook body, checked field by field: (clean values, errors)."""
    if not isinstance(data, dict):
        return {}, {"body": [_("Send a JSON object.")]}
    errors: dict[str, list[str]] = {}
    clean: dict = {}
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        errors["body"] = [_("Unknown fields: %(names)s.") % {"names": ", ".join(unknown)}]
    for name in FIELDS:
        if data.get(name) in (None, ""):
            errors[name] = [_("This field is required.")]
    opportunity = data.get("opportunity")
    if "opportunity" not in errors:
        if isinstance(opportunity, bool) or not isinstance(opportunity, int) or not 0 < opportunity < 2**63:
            errors["opportunity"] = [_("An opportunity id (a positive integer).")]
        else:
            clean["opportunity"] = opportunity
    amount = data.get("amount")
    if "amount" not in errors:
        if not isinstance(amount, str) or not _AMOUNT.match(amount):
            errors["amount"] = [_("A decimal string with at most 2 decimals, like \"12500.00\".")]
        else:
            try:
                value = Decimal(amount)
            except InvalidOperation:
                value = Decimal(0)
            if value <= 0 or value > MAX_AMOUNT:
                errors["amount"] = [_("The amount must be greater than 0.")]
            else:
                clean["amount"] = value
    currency = data.get("currency")
    if "currency" not in errors:
        if not isinstance(currency, str) or not _CURRENCY.match(currency):
            errors["currency"] = [_("A three-letter ISO 4217 code in capitals, like CNY.")]
        else:
            clean["currency"] = currency
    received = data.get("received_at")
    if "received_at" not in errors:
        parsed = parse_datetime(received) if isinstance(received, str) and len(received) <= 40 else None
        if parsed is None or parsed.tzinfo is None:
            errors["received_at"] = [_("An ISO-8601 date-time with a UTC offset, like 2026-03-02T09:00:00+08:00.")]
        elif parsed > timezone.now() + dt.timedelta(minutes=5):
            errors["received_at"] = [_("A payment cannot be received in the future.")]
        else:
            clean["received_at"] = parsed
    reference = data.get("reference")
    if "reference" not in errors:
        if not isinstance(reference, str) or not reference.strip() or len(reference) > 100:
            errors["reference"] = [_("The finance system's reference: 1 to 100 characters.")]
        elif text_problem(reference):
            errors["reference"] = [text_problem(reference)]
        else:
            clean["reference"] = reference.strip()
    return clean, errors


def may_record_prepayment(user) -> bool:
    return role_of(user) in (Role.FINANCE, Role.ADMIN)


def prepayment_record(
    *, actor, opportunity_id: int, amount: Decimal, currency: str, received_at: dt.datetime, reference: str, via: str,
) -> PrepaymentResult:
    """Record a prepayment once per reference: +8 credit once per opportunity, and delivery may be scheduled.

    The same reference again returns the recorded prepayment (`created=False`) and changes
    nothing; Opportunity.DoesNotExist for an unknown opportunity.
    """
    user = actor if getattr(actor, "is_authenticated", False) else None
    if user is not None and not may_record_prepayment(user):
        raise PermissionDenied(_("Only finance users record prepayments."))
    with transaction.atomic():
        existing = Prepayment.objects.filter(reference=reference).first()
        if existing is not None:
            return PrepaymentResult(existing, False, _credit(existing.opportunity_id))
        opportunity = Opportunity.objects.select_for_update(of=("self",)).filter(pk=opportunity_id).first()
        if opportunity is None:
            raise Opportunity.DoesNotExist
        first = not Prepayment.objects.filter(opportunity=opportunity).exists()
        try:
            with transaction.atomic():
                prepayment = Prepayment.objects.create(
                    opportunity=opportunity, amount=amount, currency=currency, received_at=received_at,
                    reference=reference, via=via, recorded_by=user,
                )
        except IntegrityError:  # the same reference committed meanwhile
            existing = Prepayment.objects.get(reference=reference)
            return PrepaymentResult(existing, False, _credit(existing.opportunity_id))
        if first:
            prepayment.evidence = evidence_add(
                actor=actor, opportunity_id=opportunity.pk, source=EvidenceSource.PREPAYMENT,
                payload={"prepayment": prepayment.pk, "reference": reference},
            )
            prepayment.save(update_fields=["evidence"])
        credit = _credit(opportunity.pk)
        notify(
            recipients=[opportunity.owner_id], event_key=f"prepayment:{prepayment.pk}",
            title=i18n.message("prepayment.received.title", opp=opportunity.name[:150]),
            body=i18n.message("prepayment.received.body", amount=format_amount(amount, places=2), currency=currency,
                              reference=reference, points=prepayment.evidence.points if prepayment.evidence else 0),
            link=reverse("followups:opportunity", args=[opportunity.pk]), kind="evidence",
        )
        audit_record(
            actor=actor, verb="prepayment.recorded", target=prepayment,
            payload={"opportunity": opportunity.pk, "amount": amount, "currency": currency, "received_at": received_at,
                     "reference": reference, "via": via, "credit": credit, "counted": first},
        )
    return PrepaymentResult(prepayment, True, credit)


def _credit(opportunity_id: int) -> int:
    return Opportunity.objects.values_list("credit_score", flat=True).get(pk=opportunity_id)


def has_prepayment(opportunity) -> bool:
    return Prepayment.objects.filter(opportunity_id=opportunity.pk).exists()


def may_schedule_delivery(*, actor, opportunity) -> bool:
    if opportunity.owner_id == actor.pk:
        return True
    if not is_manager(actor):
        return False
    visible = visible_user_ids(actor)
    return visible is None or opportunity.owner_id in visible


def delivery_schedule(*, actor, opportunity, planned_on: dt.date, note: str = "") -> DeliverySchedule:
    """Plan (or re-plan) delivery; refused until a prepayment is in."""
    if not may_schedule_delivery(actor=actor, opportunity=opportunity):
        raise PermissionDenied(_("Only the owner or their manager schedules delivery."))
    note = (note or "").strip()
    if len(note) > 500:
        raise ValidationError({"note": _("At most %(n)s characters.") % {"n": 500}})
    if text_problem(note):
        raise ValidationError({"note": text_problem(note)})
    with transaction.atomic():
        locked = Opportunity.objects.select_for_update(of=("self",)).get(pk=opportunity.pk)
        if not has_prepayment(locked):
            raise ValidationError(_("Delivery can be scheduled only after a prepayment is received."))
        schedule, created = DeliverySchedule.objects.update_or_create(
            opportunity=locked,
            defaults={"planned_on": planned_on, "note": note, "scheduled_by": actor, "scheduled_at": timezone.now()},
        )
        audit_record(
            actor=actor, verb="delivery.scheduled", target=locked,
            payload={"planned_on": planned_on, "note": note, "first": created},
        )
    return schedule
