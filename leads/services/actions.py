"""What people do with a lead after intake: accept, touch, reassign, close, merge."""
import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from salesflow import i18n
from audit.services import audit_record
from salesflow.org.models import Member, Role
from salesflow.org.selectors import display_name
from salesflow.org.scoping import is_manager, visible_user_ids

from ..models import OPEN_STATUSES, Lead, LeadStatus, LeadTouch, RoutingDecision
from .routing import assignment_notify, rep_slot_force, rep_slot_release


class LeadStateConflict(Exception):
    """The lead moved on since the page was drawn (someone else acted first)."""


def _locked(lead: Lead) -> Lead:
    return Lead.objects.select_for_update().get(pk=lead.pk)


def lead_accept(*, actor, lead: Lead, now: dt.datetime | None = None) -> Lead:
    now = now or timezone.now()
    with transaction.atomic():
        changed = Lead.objects.filter(pk=lead.pk, owner=actor, status=LeadStatus.ASSIGNED).update(
            status=LeadStatus.ACCEPTED, accepted_at=now
        )
        if not changed:
            raise LeadStateConflict(_("This lead is not waiting for you to accept it."))
        lead.refresh_from_db()
        audit_record(actor=actor, verb="lead.accepted", target=lead, at=now,
                     payload={"seconds_since_assigned": (now - lead.assigned_at).total_seconds() if lead.assigned_at else None})
    return lead


def lead_touch_record(*, actor, lead: Lead, kind: str, note: str = "", now: dt.datetime | None = None) -> LeadTouch:
    """A contact with the customer by the lead's owner; the first one stops the lead-decay clock."""
    if kind not in LeadTouch.CONTACT_KINDS:
        raise ValidationError({"kind": "Choose call, WeCom, visit or e-mail."})
    now = now or timezone.now()
    with transaction.atomic():
        current = _locked(lead)
        if current.owner_id != actor.pk or current.status not in OPEN_STATUSES:
            raise LeadStateConflict(_("Only the lead's owner can record a touch on an open lead."))
        first = current.first_touch_at is None
        touch = LeadTouch.objects.create(lead=current, kind=kind, actor=actor, note=note, at=now)
        current.last_touch_at = now
        current.accepted_at = current.accepted_at or now
        if first:
            current.first_touch_at = now
        current.status = LeadStatus.CONTACTED
        current.save(update_fields=["last_touch_at", "accepted_at", "first_touch_at", "status"])
        audit_record(
            actor=actor, verb="lead.first_touch" if first else "lead.touched", target=current, at=now,
            payload={"kind": kind, "seconds_since_assigned": (now - current.assigned_at).total_seconds() if first and current.assigned_at else None},
        )
    lead.refresh_from_db()
    return touch


def lead_reassign(*, actor, lead: Lead, new_owner, reason: str, now: dt.datetime | None = None) -> RoutingDecision:
    """A manager hands a lead to someone they manage; the reason is required and logged."""
    if not reason.strip():
        raise ValidationError({"reason": "Say why the lead changes hands."})
    visible = visible_user_ids(actor)
    if not is_manager(actor) or (visible is not None and new_owner.pk not in visible):
        raise PermissionDenied("You can only hand leads to people you manage.")
    if not Member.objects.filter(user=new_owner, role=Role.REP).exists():
        raise ValidationError({"new_owner": "Leads go to reps."})
    now = now or timezone.now()
    with transaction.atomic():
        current = _locked(lead)
        if current.status in (LeadStatus.CONVERTED, LeadStatus.LOST, LeadStatus.MERGED):
            raise LeadStateConflict(_("A closed lead is not reassigned."))
        previous = current.owner_id
        if previous == new_owner.pk:
            raise LeadStateConflict(_("That rep already owns the lead."))
        if current.is_open:
            rep_slot_release(previous)
        rep_slot_force(new_owner.pk)
        current.owner, current.status, current.assigned_at = new_owner, LeadStatus.ASSIGNED, now
        current.accepted_at = current.claimed_at = current.pool_since = None
        current.save(update_fields=["owner", "status", "assigned_at", "accepted_at", "claimed_at", "pool_since"])
        decision = RoutingDecision.objects.create(
            lead=current, outcome=RoutingDecision.Outcome.REASSIGNED, assignee=new_owner, decided_at=now,
            reason_message=i18n.message("routing.reassigned", actor=display_name(actor), reason=reason), actor_label=actor.get_username(),
            candidates=[{"user_id": previous, "verdict": "previous owner"}] if previous else [],
            score_breakdown=current.score_breakdown, rule_name="", strategy="manual",
        )
        assignment_notify(lead=current, decision=decision, user=new_owner)
        audit_record(actor=actor, verb="lead.reassigned", target=current, at=now, reason=reason,
                     payload={"from": previous, "to": new_owner.pk, "decision": decision.pk})
    lead.refresh_from_db()
    return decision


def lead_close(*, actor, lead: Lead, outcome: str, reason: str = "", now: dt.datetime | None = None) -> Lead:
    """Converted (it became an opportunity) or lost; the rep's capacity slot frees up."""
    if outcome not in (LeadStatus.CONVERTED, LeadStatus.LOST):
        raise ValidationError({"outcome": "converted or lost"})
    now = now or timezone.now()
    with transaction.atomic():
        current = _locked(lead)
        if not current.is_open or (current.owner_id != actor.pk and not is_manager(actor)):
            raise LeadStateConflict(_("Only an open lead of yours can be closed."))
        rep_slot_release(current.owner_id)
        current.status, current.closed_at = outcome, now
        current.save(update_fields=["status", "closed_at"])
        audit_record(actor=actor, verb=f"lead.{outcome}", target=current, at=now, reason=reason)
    lead.refresh_from_db()
    return lead


def lead_merge(*, actor, keep: Lead, merge: Lead, reason: str = "") -> Lead:
    """Fold `merge` into `keep` by hand: its touches move over and it stops counting as a lead."""
    if keep.pk == merge.pk:
        raise ValidationError("A lead cannot be merged into itself.")
    with transaction.atomic():
        first, second = sorted([keep.pk, merge.pk])  # lock order by id: two merges cannot deadlock
        locked = {l.pk: l for l in Lead.objects.select_for_update().filter(pk__in=[first, second])}
        survivor, gone = locked[keep.pk], locked[merge.pk]
        if gone.status == LeadStatus.MERGED or survivor.status == LeadStatus.MERGED:
            raise LeadStateConflict(_("One of these leads is already merged."))
        if gone.is_open:
            rep_slot_release(gone.owner_id)
        LeadTouch.objects.filter(lead=gone).update(lead=survivor)
        LeadTouch.objects.create(lead=survivor, kind=LeadTouch.Kind.NOTE, actor=actor, note=f"merged lead #{gone.pk}: {reason}",
                                 payload={"merged_lead": gone.pk})
        gone.status, gone.merged_into = LeadStatus.MERGED, survivor
        gone.save(update_fields=["status", "merged_into"])
        audit_record(actor=actor, verb="lead.merged", target=survivor, reason=reason, payload={"merged": gone.pk})
    keep.refresh_from_db()
    return keep
