"""Evidence: what backs each follow-up, the manager's review of it, and the credit score.

The credit score stored on the opportunity moves in the same transaction as the evidence
row that changes it, by an UPDATE … SET credit_score = credit_score + delta (the row lock
that UPDATE takes orders concurrent changes; no read-modify-write is lost).
`credit_recompute` adds the evidence rows up again to prove the stored figure.
"""
import mimetypes
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from followups.models import Opportunity
from salesflow import i18n
from salesflow.inputs import text_problem
from salesflow.notifications.services.inbox import notify
from salesflow.org.scoping import is_manager, visible_user_ids

from ..models import CreditPolicy, Evidence, EvidenceLevel, EvidenceReview, EvidenceSource, EvidenceState

LEVEL_OF_SOURCE = {
    EvidenceSource.CUSTOMER_SUBMISSION: EvidenceLevel.STRONG,
    EvidenceSource.CUSTOMER_CONFIRMATION: EvidenceLevel.STRONG,
    EvidenceSource.PREPAYMENT: EvidenceLevel.STRONG,
    EvidenceSource.MINUTES: EvidenceLevel.MEDIUM,
    EvidenceSource.NOTE: EvidenceLevel.WEAK,
}
COUNTED_STATES = (EvidenceState.ACCEPTED, EvidenceState.DOWNGRADED)
REASON_MAX_LENGTH = 500
# Meeting minutes: a PDF or a photo of the page.
MINUTES_TYPES = ("application/pdf",)
MINUTES_PREFIXES = ("image/",)


class EvidenceLocked(ValidationError):
    """Strong evidence (the customer's own word, a prepayment) cannot be reviewed."""


class ReviewConflict(ValidationError):
    """The item was reviewed already, or is not of the level the action applies to."""


def credit_policy_get() -> CreditPolicy:
    return CreditPolicy.objects.get_or_create(pk=1)[0]


def points_for(*, source: str, level: int, policy: CreditPolicy) -> int:
    if source == EvidenceSource.PREPAYMENT:
        return policy.prepayment_points
    return {
        EvidenceLevel.STRONG: policy.strong_points,
        EvidenceLevel.MEDIUM: policy.medium_points,
        EvidenceLevel.WEAK: policy.weak_points,
    }[level]


def credit_adjust(*, opportunity_id: int, delta: int) -> None:
    """Move the stored credit by `delta` in the caller's transaction (the UPDATE locks the row)."""
    if delta:
        Opportunity.objects.filter(pk=opportunity_id).update(credit_score=F("credit_score") + delta)


def evidence_add(
    *, actor, opportunity_id: int, source: str, followup=None, created_at=None, policy: CreditPolicy | None = None,
    payload: dict | None = None,
) -> Evidence:
    """One evidence row and its points on the opportunity; must run in the caller's transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("evidence_add must run inside the transaction of the change it backs")
    policy = policy or credit_policy_get()
    level = LEVEL_OF_SOURCE[source]
    points = points_for(source=source, level=level, policy=policy)
    user = actor if getattr(actor, "is_authenticated", False) else None
    evidence = Evidence.objects.create(
        opportunity_id=opportunity_id, followup=followup, source=source, level=level, points=points,
        created_by=user, created_at=created_at or timezone.now(),
    )
    credit_adjust(opportunity_id=opportunity_id, delta=points)
    audit_record(
        actor=actor, verb="evidence.added", target=evidence,
        payload={"opportunity": opportunity_id, "source": source, "level": level, "points": points,
                 "followup": followup.pk if followup else None, **(payload or {})},
    )
    return evidence


def is_minutes(content_type: str, name: str) -> bool:
    kind = (content_type or mimetypes.guess_type(name)[0] or "").lower()
    return kind in MINUTES_TYPES or kind.startswith(MINUTES_PREFIXES)


def evidence_for_followup(*, actor, followup, attachments=()) -> Evidence | None:
    """A logged follow-up's evidence: meeting minutes (a PDF or image with it) or a plain note.

    A correction restates a record that already produced its evidence, so it adds none.
    """
    if followup.corrects_id:
        return None
    minutes = any(is_minutes(a.content_type, a.original_name) for a in attachments)
    return evidence_add(
        actor=actor, opportunity_id=followup.opportunity_id, followup=followup,
        source=EvidenceSource.MINUTES if minutes else EvidenceSource.NOTE, created_at=followup.logged_at,
    )


def lead_was_customer_submission(lead) -> bool:
    """Did the customer submit this lead themself: through the tenant's web form or the intake API?"""
    from audit.models import AuditEntry
    from leads.models import Channel

    if lead.channel in (Channel.WEB_FORM, Channel.API):
        return True
    # An API client may name its own channel (an ad platform): how it arrived is in the log.
    return AuditEntry.objects.filter(
        verb="lead.created", target_type="leads.lead", target_id=str(lead.pk), payload__via__in=["api", "web_form"],
    ).exists()


def conversion_credit(lead) -> int:
    """The points a conversion of `lead` brings at once: strong when it was the customer's own submission."""
    return credit_policy_get().strong_points if lead_was_customer_submission(lead) else 0


def evidence_for_conversion(*, actor, opportunity, lead) -> Evidence | None:
    if not lead_was_customer_submission(lead):
        return None
    return evidence_add(
        actor=actor, opportunity_id=opportunity.pk, source=EvidenceSource.CUSTOMER_SUBMISSION,
        created_at=opportunity.created_at, payload={"lead": lead.pk, "channel": lead.channel},
    )


def _reason_clean(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give the reason for this review; the rep will read it.")})
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationError({"reason": _("At most %(n)s characters.") % {"n": REASON_MAX_LENGTH}})
    problem = text_problem(reason)
    if problem:
        raise ValidationError({"reason": problem})
    return reason


def may_review(*, actor, owner_id: int) -> bool:
    """Only a manager (or admin) over the owner reviews, never their own evidence."""
    if not is_manager(actor) or owner_id == actor.pk:
        return False
    visible = visible_user_ids(actor)
    return visible is None or owner_id in visible


@dataclass(frozen=True)
class ReviewRule:
    from_level: int
    from_states: tuple
    to_level: int
    state: str


# The natural sequence: medium → downgraded to weak → (later, maybe) rejected; a weak item straight to rejected.
# Each review moves the item to a state it was not in, so an item has at most one review per action
# (`forecasting_review_once_per_action`) and a rejection is final.
RULES = {
    EvidenceReview.Action.DOWNGRADE: ReviewRule(EvidenceLevel.MEDIUM, (EvidenceState.ACCEPTED,), EvidenceLevel.WEAK,
                                                EvidenceState.DOWNGRADED),
    EvidenceReview.Action.REJECT: ReviewRule(EvidenceLevel.WEAK, (EvidenceState.ACCEPTED, EvidenceState.DOWNGRADED),
                                             EvidenceLevel.WEAK, EvidenceState.REJECTED),
}


def _review_refusal(evidence: Evidence, action: str, rule: ReviewRule) -> str | None:
    """Why `action` cannot apply to `evidence` as it stands (read under its row lock); None when it can."""
    if evidence.state == EvidenceState.REJECTED:
        return _("This evidence was rejected already.")
    if evidence.state not in rule.from_states:
        return _("This evidence was downgraded already; it can still be rejected.")
    if evidence.level != rule.from_level:
        if action == EvidenceReview.Action.DOWNGRADE:
            return _("Only medium evidence can be downgraded; reject weak evidence instead.")
        return _("Only weak evidence can be rejected; downgrade medium evidence first.")
    return None


def evidence_review(*, actor, evidence_id: int, action: str, reason: str, now=None) -> EvidenceReview:
    """Downgrade a medium item to weak, or reject a weak one (also one downgraded before), with a reason; strong
    items are locked.

    The evidence row is locked first, so of two managers reviewing the same item at once exactly one review
    is written per step; the other is told it was reviewed meanwhile. A unique constraint on (evidence, action)
    backs this up.
    """
    if action not in RULES:
        raise ValidationError({"action": _("Unknown review action.")})
    reason = _reason_clean(reason)
    rule = RULES[action]
    now = now or timezone.now()
    with transaction.atomic():
        evidence = (
            Evidence.objects.select_for_update(of=("self",)).select_related("opportunity").filter(pk=evidence_id).first()
        )
        if evidence is None:
            raise Evidence.DoesNotExist
        opportunity = evidence.opportunity
        if not may_review(actor=actor, owner_id=opportunity.owner_id):
            raise PermissionDenied(_("Only the owner's manager reviews this evidence."))
        if evidence.level == EvidenceLevel.STRONG:
            raise EvidenceLocked(_("Strong evidence is locked: the customer's own word or a payment cannot be downgraded or rejected."))
        refusal = _review_refusal(evidence, action, rule)
        if refusal:
            raise ReviewConflict(refusal)
        policy = credit_policy_get()
        points_after = 0 if rule.state == EvidenceState.REJECTED else policy.weak_points
        review = EvidenceReview.objects.create(
            evidence=evidence, action=action, level_before=evidence.level, level_after=rule.to_level,
            points_before=evidence.points, points_after=points_after, reason=reason, reviewer=actor, at=now,
        )
        Evidence.objects.filter(pk=evidence.pk).update(level=rule.to_level, points=points_after, state=rule.state)
        credit_adjust(opportunity_id=opportunity.pk, delta=points_after - evidence.points)
        _review_notify(review=review, evidence=evidence, opportunity=opportunity, actor=actor)
        audit_record(
            actor=actor, verb=f"evidence.{rule.state}", target=evidence, reason=reason, at=now,
            payload={"opportunity": opportunity.pk, "review": review.pk, "level_before": review.level_before,
                     "level_after": review.level_after, "points_before": review.points_before,
                     "points_after": points_after, "owner": opportunity.owner_id, "state_before": evidence.state},
        )
    return review


def _review_notify(*, review, evidence, opportunity, actor) -> None:
    key = "evidence.downgraded" if review.action == EvidenceReview.Action.DOWNGRADE else "evidence.rejected"
    params = {
        "reviewer": actor.get_username(), "source": i18n.typed("evidence_source", evidence.source),
        "before": review.points_before, "after": review.points_after, "reason": review.reason,
    }
    notify(
        recipients=[opportunity.owner_id], event_key=f"evidence.review:{review.pk}",
        title=i18n.message(f"{key}.title", opp=opportunity.name[:150]),
        body=i18n.message(f"{key}.body", **params),
        link=reverse("followups:opportunity", args=[opportunity.pk]), kind="evidence",
    )


def credit_sums(opportunity_ids=None) -> dict[int, int]:
    """Each opportunity's credit added up from its evidence rows."""
    rows = Evidence.objects.filter(state__in=COUNTED_STATES)
    if opportunity_ids is not None:
        rows = rows.filter(opportunity_id__in=opportunity_ids)
    return dict(rows.values("opportunity_id").annotate(total=Sum("points")).values_list("opportunity_id", "total"))


@dataclass(frozen=True)
class CreditDifference:
    opportunity_id: int
    stored: int
    computed: int


def credit_differences(opportunity_ids=None) -> list[CreditDifference]:
    sums = credit_sums(opportunity_ids)
    stored = Opportunity.objects.all()
    if opportunity_ids is not None:
        stored = stored.filter(pk__in=opportunity_ids)
    return [
        CreditDifference(pk, score, sums.get(pk, 0))
        for pk, score in stored.filter(~Q(credit_score=0) | Q(pk__in=list(sums))).values_list("pk", "credit_score")
        .order_by("pk").iterator(chunk_size=5000)
        if score != sums.get(pk, 0)
    ]


def credit_recompute(*, actor, fix: bool = True) -> list[CreditDifference]:
    """Compare every stored credit score with its evidence; with `fix`, store the evidence's sum."""
    with transaction.atomic():
        differences = credit_differences()
        if fix and differences:
            ids = [d.opportunity_id for d in differences]
            list(Opportunity.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk", flat=True))
            differences = credit_differences(ids)  # read again under the lock
            for difference in differences:
                Opportunity.objects.filter(pk=difference.opportunity_id).update(credit_score=difference.computed)
            audit_record(
                actor=actor, verb="credit.recomputed", target_type="followups.opportunity",
                payload={"fixed": [[d.opportunity_id, d.stored, d.computed] for d in differences[:200]],
                         "count": len(differences)},
            )
    return differences
