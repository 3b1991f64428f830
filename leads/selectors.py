"""Reads, scoped: a rep sees their own leads and the pool, a manager their people's, an admin all."""
import datetime as dt
import statistics

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone

from salesflow import i18n
from salesflow.org.scoping import visible_user_ids

from .models import OPEN_STATUSES, Lead, LeadStatus, RoutingDecision
from .services.roster import pool_select, version_reps


def lead_list(*, user) -> QuerySet[Lead]:
    visible = visible_user_ids(user)
    leads = Lead.objects.select_related("owner", "owner__member", "routing_rule").exclude(status=LeadStatus.MERGED)
    if visible is not None:
        leads = leads.filter(Q(owner_id__in=visible) | Q(status=LeadStatus.POOL))
    return leads


def lead_get_for_user(*, user, lead_id: int) -> Lead | None:
    """The lead if `user` may see it (theirs, their people's, or in the pool); None alike for missing and hidden."""
    visible = visible_user_ids(user)
    leads = Lead.objects.select_related("owner", "owner__member", "routing_rule", "merged_into")
    if visible is not None:
        leads = leads.filter(Q(owner_id__in=visible) | Q(status=LeadStatus.POOL))
    return leads.filter(pk=lead_id).first()


def my_leads_by_urgency(*, user) -> QuerySet[Lead]:
    """A rep's open leads: unaccepted first, then untouched, then the longest without a touch."""
    return (
        Lead.objects.filter(owner=user, status__in=OPEN_STATUSES)
        .annotate(urgency=Case(
            When(status=LeadStatus.ASSIGNED, then=Value(0)),
            When(first_touch_at__isnull=True, then=Value(1)),
            default=Value(2), output_field=IntegerField(),
        ))
        .order_by("urgency", "last_touch_at", "assigned_at", "id")
    )


def leads_awaiting_acceptance(*, user) -> QuerySet[Lead]:
    """Leads routed to the people `user` answers for (not to `user`) that nobody has accepted yet, oldest first."""
    visible = visible_user_ids(user)
    leads = Lead.objects.select_related("owner__member").filter(status=LeadStatus.ASSIGNED).exclude(owner=user)
    if visible is not None:
        leads = leads.filter(owner_id__in=visible)
    return leads.order_by("assigned_at", "id")


def pool_list() -> QuerySet[Lead]:
    return Lead.objects.filter(status=LeadStatus.POOL).order_by("-score", "pool_since", "id")


def routing_log(*, user) -> QuerySet[RoutingDecision]:
    visible = visible_user_ids(user)
    decisions = RoutingDecision.objects.select_related("lead", "assignee", "assignee__member", "rule")
    if visible is not None:
        decisions = decisions.filter(Q(assignee_id__in=visible) | Q(assignee__isnull=True, lead__owner_id__in=visible)
                                     | Q(assignee__isnull=True, lead__status=LeadStatus.POOL))
    return decisions.order_by("-decided_at", "-id")


def speed_to_lead(*, user, since: dt.datetime | None = None) -> dict:
    """Time from assignment to first touch for the leads `user` may see: median, p90, shares."""
    since = since or timezone.now() - dt.timedelta(days=30)
    leads = lead_list(user=user).filter(assigned_at__gte=since).exclude(status=LeadStatus.POOL)
    assigned = leads.count()
    seconds = sorted(
        (first - assigned_at).total_seconds()
        for first, assigned_at in leads.filter(first_touch_at__isnull=False).values_list("first_touch_at", "assigned_at")
    )
    def share(limit):
        return (sum(1 for s in seconds if s <= limit) / assigned) if assigned else None
    return {
        "assigned": assigned,
        "touched": len(seconds),
        "median_seconds": statistics.median(seconds) if seconds else None,
        "p90_seconds": seconds[min(len(seconds) - 1, int(0.9 * len(seconds)))] if seconds else None,
        "within_5m": share(300), "within_1h": share(3600), "within_24h": share(86400),
        "since": since,
    }


def lead_decisions(lead: Lead) -> list[RoutingDecision]:
    """A lead's routing decisions in order, each with `story_candidates`: every candidate it
    considered, rebuilt from the roster version for decisions that refer to one."""
    decisions = list(lead.decisions.select_related("assignee", "assignee__member", "roster_version")
                     .defer("roster_version__reps").order_by("decided_at", "id"))
    for decision in decisions:
        decision.story_candidates = decision_candidates(decision)
    return decisions


def decision_candidates(decision: RoutingDecision) -> list[dict]:
    """Every candidate of the decision with its verdict and why.

    Stored in full for older decisions; for the others, the pool is selected again from the
    roster version with the stored basis, and every rep the decision did not name (chosen, or
    skipped for a reason) was an available rep with a free slot whom another came before.
    """
    if not decision.roster_version_id:
        return decision.candidates
    named = {entry["user_id"]: entry for entry in decision.candidates}
    passed = {"verdict": "not chosen", "why": i18n.message("routing.why.other_first")}
    return [
        {"user_id": rep.user_id, "name": rep.full_name, "open": None, "capacity": rep.capacity,
         **named.get(rep.user_id, passed)}
        for rep in pool_select(version_reps(decision.roster_version_id), decision.pool_basis)
    ]
