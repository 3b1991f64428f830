"""The public pool (公海): claiming, and releasing claims nobody followed up."""
import datetime as dt

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from salesflow import i18n
from audit.services import audit_record
from salesflow.org.models import Member, Role
from salesflow.org.selectors import display_name

from ..models import Lead, LeadStatus, PoolClaim, RoutingDecision
from .routing import rep_slot_release, rep_slot_take
from .scoring import lead_policy_get


class ClaimRefused(Exception):
    pass


def lead_claim(*, actor, lead: Lead, now: dt.datetime | None = None) -> Lead:
    """Claim a pool lead. Two reps at the same moment: the guarded UPDATE lets exactly one win."""
    now = now or timezone.now()
    policy = lead_policy_get()
    if not Member.objects.filter(user=actor, role=Role.REP).exists():
        raise ClaimRefused(_("Only reps claim leads from the pool."))
    cooling_since = now - dt.timedelta(hours=policy.pool_cooling_hours)
    with transaction.atomic():
        if PoolClaim.objects.filter(lead=lead, user=actor, released_at__gte=cooling_since).exists():
            raise ClaimRefused(_("You held this lead recently; you may claim it again %(hours)d h after its release.")
                                % {"hours": policy.pool_cooling_hours})
        if not rep_slot_take(actor.pk):
            raise ClaimRefused(_("You are at your capacity of open leads."))
        won = Lead.objects.filter(pk=lead.pk, status=LeadStatus.POOL, owner__isnull=True).update(
            status=LeadStatus.ACCEPTED, owner=actor, claimed_at=now, assigned_at=now, accepted_at=now, pool_since=None
        )
        if not won:
            raise ClaimRefused(_("Someone else claimed this lead first."))
        lead.refresh_from_db()
        PoolClaim.objects.create(lead=lead, user=actor, claimed_at=now)
        RoutingDecision.objects.create(
            lead=lead, outcome=RoutingDecision.Outcome.CLAIMED, assignee=actor, decided_at=now, strategy="public_pool",
            reason_message=i18n.message("routing.claimed", actor=display_name(actor)), actor_label=actor.get_username(),
            score_breakdown=lead.score_breakdown,
        )
        audit_record(actor=actor, verb="lead.claimed", target=lead, at=now)
    return lead


def pool_release_expired(*, now: dt.datetime) -> int:
    """Send claimed leads with no follow-up for the hold period back to the pool; returns how many.

    Set-based: one UPDATE … RETURNING picks and releases them, so two scans at once
    cannot release a lead twice.
    """
    policy = lead_policy_get()
    cutoff = now - dt.timedelta(hours=policy.pool_hold_hours)
    table = Lead._meta.db_table
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                UPDATE {table} AS l SET status = 'pool', owner_id = NULL, pool_since = %s, claimed_at = NULL,
                                        accepted_at = NULL, assigned_at = NULL
                FROM (SELECT id, owner_id, claimed_at FROM {table}
                      WHERE claimed_at IS NOT NULL AND claimed_at <= %s AND status IN ('accepted', 'contacted')
                        AND (last_touch_at IS NULL OR last_touch_at < claimed_at)
                      FOR UPDATE SKIP LOCKED) AS old
                WHERE l.id = old.id
                RETURNING l.id, old.owner_id, old.claimed_at
                """,
                [now, cutoff],
            )
            released_rows = cursor.fetchall()
        reason = i18n.message("routing.released", duration=i18n.seconds(policy.pool_hold_hours * 3600))
        for lead_id, owner_id, claimed_at in released_rows:
            rep_slot_release(owner_id)
            PoolClaim.objects.filter(lead_id=lead_id, user_id=owner_id, released_at__isnull=True).update(
                released_at=now, release_reason=reason
            )
            RoutingDecision.objects.create(
                lead_id=lead_id, outcome=RoutingDecision.Outcome.RELEASED, decided_at=now, actor_label="pool scan",
                reason_message=reason,
                candidates=[{"user_id": owner_id, "verdict": "former claimer", "why": i18n.message(
                    "routing.why.cooling", duration=i18n.seconds(policy.pool_cooling_hours * 3600))}],
            )
        for lead_id, owner_id, claimed_at in released_rows:
            audit_record(actor="pool scan", verb="lead.released", target_type="leads.lead", target_id=lead_id, at=now,
                         payload={"former_owner": owner_id, "claimed_at": claimed_at, "hold_hours": policy.pool_hold_hours})
    return len(released_rows)
