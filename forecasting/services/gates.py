"""Stage gates: the credit needed to enter a stage, and the actions required before moving on.

A gate applies to a forward move: into a later stage, or back into the pipeline from a
closed stage. Moving back, or to a lost stage, is never gated. Skipping stages meets every
gate passed on the way. `opportunity_stage_change` (followups) calls `gate_enforce` on the
opportunity row it has locked, so a gate is checked against the credit as it stands and
two racing moves are decided one after the other.
"""
import math
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db.models import Count

from audit.services import audit_record
from followups.models import FollowUp, Outcome, Stage, StageRequirement
from salesflow import i18n

from .evidence import credit_policy_get


class GateRefused(ValidationError):
    """A move a gate refuses; `refusals` are the stored messages saying what is missing."""

    def __init__(self, refusals: list[dict]):
        self.refusals = refusals
        super().__init__(" ".join(i18n.render(m) for m in refusals))


@dataclass
class Gate:
    needed: int = 0
    credit_stage: Stage | None = None
    requirements: list[StageRequirement] = field(default_factory=list)


def _is_forward(from_stage: Stage, to_stage: Stage) -> bool:
    if to_stage.outcome == Outcome.LOST:
        return False
    return not from_stage.is_open or to_stage.position > from_stage.position


def gate_for(*, from_stage: Stage, to_stage: Stage) -> Gate:
    """What a move from `from_stage` to `to_stage` must meet."""
    gate = Gate()
    if not _is_forward(from_stage, to_stage):
        return gate
    passed = Stage.objects.exclude(outcome=Outcome.LOST).filter(position__lte=to_stage.position)
    if from_stage.is_open:
        passed = passed.filter(position__gt=from_stage.position)
    for stage in passed.filter(entry_min_credit__gt=0).order_by("-entry_min_credit", "position")[:1]:
        gate.needed, gate.credit_stage = stage.entry_min_credit, stage
    if from_stage.is_open:
        gate.requirements = list(
            StageRequirement.objects.filter(
                required_to_advance=True, stage__position__gte=from_stage.position, stage__position__lt=to_stage.position,
            ).exclude(stage__outcome=Outcome.LOST).select_related("stage").order_by("stage__position", "id")
        )
    return gate


def _hint(missing: int) -> dict:
    policy = credit_policy_get()
    if missing <= policy.weak_points:
        return i18n.message("gate.hint.weak")
    if missing <= policy.medium_points:
        return i18n.message("gate.hint.medium")
    if missing <= policy.strong_points or not policy.strong_points:
        return i18n.message("gate.hint.strong")
    return i18n.message("gate.hint.strong_many", n=math.ceil(missing / policy.strong_points))


def gate_check(*, opportunity, to_stage: Stage) -> list[dict]:
    """What stands between `opportunity` and `to_stage`, as stored messages; empty when it may move."""
    gate = gate_for(from_stage=opportunity.stage, to_stage=to_stage)
    refusals = []
    if opportunity.credit_score < gate.needed:
        missing = gate.needed - opportunity.credit_score
        refusals.append(i18n.message(
            "gate.credit", stage=i18n.typed("stage", gate.credit_stage.code), needed=gate.needed,
            has=opportunity.credit_score, missing=missing, hint=i18n.nested(_hint(missing)),
        ))
    if gate.requirements:
        done = dict(
            FollowUp.objects.filter(
                opportunity_id=opportunity.pk, corrects__isnull=True,
                action__in={r.action for r in gate.requirements},
            ).values("action").annotate(n=Count("id")).values_list("action", "n")
        )
        by_stage: dict[str, list] = {}
        for requirement in gate.requirements:
            count = done.get(requirement.action, 0)
            if count < requirement.count:
                by_stage.setdefault(requirement.stage.code, []).append(i18n.nested(i18n.message(
                    "gate.action_line", action=i18n.typed("action", requirement.action), done=count,
                    count=requirement.count,
                )))
        for stage_code, lines in by_stage.items():
            refusals.append(i18n.message("gate.actions", stage=i18n.typed("stage", stage_code), actions=i18n.listing(lines)))
    return refusals


def gate_enforce(*, actor, opportunity, to_stage: Stage, via: str, ip: str | None = None) -> GateRefused | None:
    """Check the gate on the locked row; a refusal is audited (`gate.refused`) and returned for the caller to raise
    once its transaction has committed the audit entry."""
    refusals = gate_check(opportunity=opportunity, to_stage=to_stage)
    if not refusals:
        return None
    audit_record(
        actor=actor, verb="gate.refused", target=opportunity,
        payload={"from": opportunity.stage.code, "to": to_stage.code, "credit": opportunity.credit_score,
                 "via": via, "ip": ip, "missing": refusals},
    )
    return GateRefused(refusals)
