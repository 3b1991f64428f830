"""Reads of the evidence part: an opportunity's evidence history, the review queue, the finance page."""
from django.db.models import Prefetch, Q, QuerySet

from followups.models import Opportunity, Outcome, Stage
from salesflow.org.scoping import scope_by_owner

from .models import DeliverySchedule, Evidence, EvidenceReview, EvidenceState, Prepayment

QUEUE_SIZE = 100
FINANCE_RESULTS = 30


def evidence_history(*, opportunity) -> list[Evidence]:
    return list(
        Evidence.objects.filter(opportunity=opportunity)
        .select_related("created_by__member", "followup")
        .prefetch_related(Prefetch("reviews", queryset=EvidenceReview.objects.select_related("reviewer__member")))
        .order_by("-created_at", "-id")
    )


def next_gate(*, opportunity) -> Stage | None:
    """The next open stage that asks for credit, to show what the opportunity still needs."""
    if not opportunity.is_open:
        return None
    return (Stage.objects.filter(outcome=Outcome.OPEN, position__gt=opportunity.stage.position, entry_min_credit__gt=0)
            .order_by("position").first())


def prepayment_state(*, opportunity) -> dict:
    return {
        "prepayments": list(Prepayment.objects.filter(opportunity=opportunity).order_by("-received_at")),
        "delivery": DeliverySchedule.objects.filter(opportunity=opportunity).select_related("scheduled_by").first(),
    }


def review_queue(*, user) -> QuerySet[Evidence]:
    """Evidence of the people `user` manages still open to review (accepted, or downgraded and so still
    rejectable), newest first (strong items shown, locked)."""
    rows = (Evidence.objects.filter(state__in=[EvidenceState.ACCEPTED, EvidenceState.DOWNGRADED])
            .exclude(opportunity__owner=user)
            .select_related("opportunity__account", "opportunity__owner__member", "followup", "created_by__member")
            .order_by("-created_at", "-id"))
    return scope_by_owner(rows, user, owner_field="opportunity__owner")[:QUEUE_SIZE]


def evidence_for_review(*, user, evidence_id: int) -> Evidence | None:
    rows = scope_by_owner(Evidence.objects.all(), user, owner_field="opportunity__owner")
    return rows.filter(pk=evidence_id).first()


def finance_opportunities(*, query: str) -> list[Opportunity]:
    rows = Opportunity.objects.filter(is_open=True).select_related("account", "stage", "owner__member")
    query = query.strip()
    if query:
        match = Q(name__icontains=query) | Q(account__name__icontains=query)
        if query.isdigit():
            match |= Q(pk=int(query))
        rows = rows.filter(match)
    return list(rows.order_by("-amount", "id")[:FINANCE_RESULTS])


def recent_prepayments() -> list[Prepayment]:
    return list(Prepayment.objects.select_related("opportunity__account", "recorded_by").order_by("-created_at")[:20])
