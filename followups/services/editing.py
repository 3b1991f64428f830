"""Editing accounts, contacts and opportunities, and handing them to someone else.

Each service locks the row, compares, writes only what changed, keeps one history row per
changed field and one audit entry, all in one transaction. Nothing changed: nothing
written, and the unchanged record comes back.
"""
import datetime as dt
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from salesflow.org.models import Member, Role
from salesflow.org.scoping import is_manager, visible_user_ids

from ..models import Account, Contact, ContactRole, FollowUp, Opportunity, RecordKind, Stage, Task
from ..rules import light_for, next_due, policy_get
from .history import field_changes, history_write

ACCOUNT_FIELDS = ("name", "industry", "region", "tier")
CONTACT_FIELDS = ("name", "title", "role", "is_key_person", "influence", "phone", "email")
OPPORTUNITY_FIELDS = ("name", "amount", "expected_close", "product_line")


def _require_name(values: dict) -> None:
    if "name" in values and not str(values["name"]).strip():
        raise ValidationError({"name": _("A name is required.")})


def _unknown(values: dict, allowed: tuple) -> None:
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        raise ValueError(f"not editable here: {', '.join(unknown)}")


def account_update(*, actor, account: Account, via: str = "web", **values) -> Account:
    _unknown(values, ACCOUNT_FIELDS)
    _require_name(values)
    with transaction.atomic():
        current = Account.objects.select_for_update().get(pk=account.pk)
        changes = field_changes(current, values)
        if changes:
            Account.objects.filter(pk=current.pk).update(**values)
            history_write(actor=actor, record_type=RecordKind.ACCOUNT, record_id=current.pk, account_id=current.pk,
                          changes=changes, via=via)
            audit_record(actor=actor, verb="account.updated", target=current, payload={"changes": changes, "via": via})
    account.refresh_from_db()
    return account


def contact_update(*, actor, contact: Contact, via: str = "web", **values) -> Contact:
    _unknown(values, CONTACT_FIELDS)
    _require_name(values)
    if "role" in values and values["role"] not in ContactRole.values:
        raise ValidationError({"role": _("Unknown decision role.")})
    if "influence" in values and not 1 <= int(values["influence"]) <= 5:
        raise ValidationError({"influence": _("Influence goes from 1 to 5.")})
    with transaction.atomic():
        current = Contact.objects.select_for_update().get(pk=contact.pk)
        changes = field_changes(current, values)
        if changes:
            Contact.objects.filter(pk=current.pk).update(**values)
            history_write(actor=actor, record_type=RecordKind.CONTACT, record_id=current.pk,
                          account_id=current.account_id, changes=changes, via=via)
            audit_record(actor=actor, verb="contact.updated", target=current,
                         payload={"account": current.account_id, "changes": changes, "via": via})
    contact.refresh_from_db()
    return contact


def _clocks_for_amount(opportunity: Opportunity, amount: Decimal, now: dt.datetime) -> dict:
    """A new amount can move the opportunity across the high-value line, and so its cadence."""
    if not opportunity.is_open:
        return {}
    policy = policy_get()
    promised = (
        FollowUp.objects.filter(opportunity_id=opportunity.pk).order_by("-occurred_at", "-id")
        .values_list("next_step_due_at", flat=True).first()
    )
    due = next_due(policy=policy, amount=amount, created_at=opportunity.created_at,
                   last_activity_at=opportunity.last_activity_at, next_step_due_at=promised)
    fields = {"next_due_at": due}
    light = light_for(policy=policy, next_due_at=due, now=now)
    if light != opportunity.light:
        fields |= {"light": light, "light_changed_at": now}
    return fields


def opportunity_update(*, actor, opportunity: Opportunity, via: str = "web", now: dt.datetime | None = None,
                       **values) -> Opportunity:
    """Change name, amount, expected close or product line; the stage has its own service."""
    _unknown(values, OPPORTUNITY_FIELDS)
    _require_name(values)
    if "amount" in values and (values["amount"] is None or Decimal(values["amount"]) < 0):
        raise ValidationError({"amount": _("The amount cannot be negative.")})
    now = now or timezone.now()
    with transaction.atomic():
        current = Opportunity.objects.select_for_update().get(pk=opportunity.pk)
        changes = field_changes(current, values)
        if changes:
            fields = dict(values)
            if "amount" in changes:
                fields |= _clocks_for_amount(current, Decimal(values["amount"]), now)
            Opportunity.objects.filter(pk=current.pk).update(**fields)
            history_write(actor=actor, record_type=RecordKind.OPPORTUNITY, record_id=current.pk,
                          account_id=current.account_id, changes=changes, via=via, at=now)
            audit_record(actor=actor, verb="opportunity.updated", target=current, at=now,
                         payload={"account": current.account_id, "changes": changes, "via": via})
    opportunity.refresh_from_db()
    return opportunity


def owner_check(*, actor, new_owner) -> None:
    """A manager hands records only to people in their scope who sell (reps and managers)."""
    if not is_manager(actor):
        raise PermissionDenied(_("Only managers reassign."))
    visible = visible_user_ids(actor)
    if visible is not None and new_owner.pk not in visible:
        raise PermissionDenied(_("You can only hand records to people you manage."))
    if not Member.objects.filter(user=new_owner, role__in=[Role.REP, Role.MANAGER]).exists():
        raise ValidationError({"new_owner": _("Records go to reps or managers.")})


def _opportunity_owner_set(*, actor, current: Opportunity, new_owner, via: str, now: dt.datetime) -> dict:
    changes = {"owner": (current.owner_id, new_owner.pk)}
    Opportunity.objects.filter(pk=current.pk).update(owner=new_owner)
    # Open reminders follow the opportunity to its new owner.
    Task.objects.filter(opportunity_id=current.pk, assignee_id=current.owner_id, done_at__isnull=True).update(
        assignee=new_owner
    )
    history_write(actor=actor, record_type=RecordKind.OPPORTUNITY, record_id=current.pk,
                  account_id=current.account_id, changes=changes, via=via, at=now)
    audit_record(actor=actor, verb="opportunity.reassigned", target=current, at=now,
                 payload={"from": current.owner_id, "to": new_owner.pk, "via": via})
    return changes


def opportunity_reassign(*, actor, opportunity: Opportunity, new_owner, via: str = "web",
                         now: dt.datetime | None = None) -> Opportunity:
    owner_check(actor=actor, new_owner=new_owner)
    now = now or timezone.now()
    with transaction.atomic():
        current = Opportunity.objects.select_for_update().get(pk=opportunity.pk)
        if current.owner_id == new_owner.pk:
            raise ValidationError({"new_owner": _("That person already owns it.")})
        _opportunity_owner_set(actor=actor, current=current, new_owner=new_owner, via=via, now=now)
    opportunity.refresh_from_db()
    return opportunity


def account_reassign(*, actor, account: Account, new_owner, with_open_opportunities: bool = True, via: str = "web",
                     now: dt.datetime | None = None) -> Account:
    """Hand a customer over; its open opportunities held by the previous owner follow when asked."""
    owner_check(actor=actor, new_owner=new_owner)
    now = now or timezone.now()
    with transaction.atomic():
        current = Account.objects.select_for_update().get(pk=account.pk)
        if current.owner_id == new_owner.pk:
            raise ValidationError({"new_owner": _("That person already owns it.")})
        previous = current.owner_id
        Account.objects.filter(pk=current.pk).update(owner=new_owner)
        history_write(actor=actor, record_type=RecordKind.ACCOUNT, record_id=current.pk, account_id=current.pk,
                      changes={"owner": (previous, new_owner.pk)}, via=via, at=now)
        moved = []
        if with_open_opportunities:
            for opp in Opportunity.objects.select_for_update().filter(account_id=current.pk, owner_id=previous,
                                                                       is_open=True).order_by("id"):
                _opportunity_owner_set(actor=actor, current=opp, new_owner=new_owner, via=via, now=now)
                moved.append(opp.pk)
        audit_record(actor=actor, verb="account.reassigned", target=current, at=now,
                     payload={"from": previous, "to": new_owner.pk, "opportunities": moved, "via": via})
    account.refresh_from_db()
    return account


def opportunity_open(
    *, actor, owner, name: str, account: Account | None = None, account_values: dict | None = None,
    amount: Decimal = Decimal("0"), expected_close: dt.date | None = None, product_line: str = "", via: str = "web",
    stage: Stage | None = None, ip: str | None = None,
) -> Opportunity:
    """A new opportunity without a lead: for an existing customer, or a new one created with it, in `stage`
    (the first open stage by default). The stage's gate is checked, and a refusal audited, before anything is
    written, so a refused creation leaves no new customer behind."""
    from forecasting.services.gates import opportunity_entry_gate

    from .records import account_create, opportunity_create, stage_first_open

    if account is None and not (account_values or {}).get("name", "").strip():
        raise ValidationError({"account": _("Pick a customer or name a new one.")})
    if not name.strip():
        raise ValidationError({"name": _("A name is required.")})
    stage = stage or stage_first_open()
    if stage is not None and stage.is_open:
        opportunity_entry_gate(actor=actor, to_stage=stage, via=via, account=account, name=name.strip(), ip=ip)
    with transaction.atomic():
        if account is None:
            account = account_create(actor=actor, owner=owner, via=via, **account_values)
        return opportunity_create(actor=actor, account=account, name=name.strip(), owner=owner, amount=amount,
                                  expected_close=expected_close, product_line=product_line, via=via, stage=stage,
                                  ip=ip)
