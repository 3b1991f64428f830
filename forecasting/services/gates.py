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
from django.db import transaction
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


def _is_forward(from_stage: Stage | None, to_stage: Stage) -> bool:
    if to_stage.outcome == Outcome.LOST:
        return False
    return from_stage is None or not from_stage.is_open or to_stage.position > from_stage.position


def gate_for(*, from_stage: Stage | None, to_stage: Stage) -> Gate:
    """What a move from `from_stage` to `to_stage` must meet; `from_stage=None` is a new opportunity
    created straight into `to_stage`, which meets every gate from the start of the pipeline."""
    gate = Gate()
    if not _is_forward(from_stage, to_stage):
        return gate
    passed = Stage.objects.exclude(outcome=Outcome.LOST).filter(position__lte=to_stage.position)
    if from_stage is not None and from_stage.is_open:
        passed = passed.filter(position__gt=from_stage.position)
    for stage in passed.filter(entry_min_credit__gt=0).order_by("-entry_min_credit", "position")[:1]:
        gate.needed, gate.credit_stage = stage.entry_min_credit, stage
    if from_stage is None or from_stage.is_open:
        requirements = StageRequirement.objects.filter(required_to_advance=True, stage__position__lt=to_stage.position)
        if from_stage is not None:
            requirements = requirements.filter(stage__position__gte=from_stage.position)
        gate.requirements = list(
            requirements.exclude(stage__outcome=Outcome.LOST).select_related("stage").order_by("stage__position", "id")
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
    return _refusals(gate, credit=opportunity.credit_score, opportunity_id=opportunity.pk)


def gate_check_entry(*, to_stage: Stage, credit: int = 0) -> list[dict]:
    """What stands between a new opportunity with `credit` (0, or what a customer's own submission brings)
    and being created straight into `to_stage`; it has no follow-ups yet, so every required action is missing."""
    return _refusals(gate_for(from_stage=None, to_stage=to_stage), credit=credit, opportunity_id=None)


def _refusals(gate: Gate, *, credit: int, opportunity_id: int | None) -> list[dict]:
    refusals = []
    if credit < gate.needed:
        missing = gate.needed - credit
        refusals.append(i18n.message(
            "gate.credit", stage=i18n.typed("stage", gate.credit_stage.code), needed=gate.needed,
            has=credit, missing=missing, hint=i18n.nested(_hint(missing)),
        ))
    if gate.requirements:
        done = {} if opportunity_id is None else dict(
            FollowUp.objects.filter(
                opportunity_id=opportunity_id, corrects__isnull=True,
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


def gate_enforce_entry(*, actor, to_stage: Stage, credit: int = 0, via: str, account=None, name: str = "",
                       ip: str | None = None) -> GateRefused | None:
    """The gate for creating an opportunity straight into `to_stage`: a refusal is audited (`gate.refused`, on the
    customer when there is one, since the opportunity never exists) and returned for the caller to raise once its
    transaction has committed the audit entry."""
    refusals = gate_check_entry(to_stage=to_stage, credit=credit)
    if not refusals:
        return None
    audit_record(
        actor=actor, verb="gate.refused", target=account, target_type="" if account else "opportunity",
        payload={"from": None, "to": to_stage.code, "credit": credit, "via": via, "ip": ip, "missing": refusals,
                 "creation": True, "name": name},
    )
    return GateRefused(refusals)


def opportunity_entry_gate(**kwargs) -> None:
    """`gate_enforce_entry` committed on its own, for a service about to open its transaction: the refusal is
    audited even though the creation it refuses never starts."""
    with transaction.atomic():
        refused = gate_enforce_entry(**kwargs)
    if refused is not None:
        raise refused
