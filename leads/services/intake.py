"""Taking a lead in from any channel: dedup, score, store, route — one transaction."""
import datetime as dt
import hashlib
from dataclasses import dataclass

from django.core.exceptions import ObjectDoesNotExist
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from salesflow import i18n
from audit.services import audit_entry_prepare, audit_record
from salesflow.memo import memo_forget_tenant
from salesflow.notifications.services import notify

from ..models import IdempotencyRecord, IntakeKey, Lead, LeadTouch, RoutingDecision, RoutingRule
from .claim import Claim, intake_claim
from .decide import lead_route, route_prepare
from .store import lead_store
from .routing import close_rates_all
from .scoring import lead_policy_get, lead_score

STORED_FIELDS = ("company", "contact_name", "phone", "email", "channel", "industry", "region", "product_line",
                 "budget_grade", "industry_match", "tier", "external_id", "note", "phone_normalized", "email_normalized")


class IdempotencyMismatch(Exception):
    """The same Idempotency-Key came back with a different body."""


@dataclass
class IntakeResult:
    lead: Lead
    created: bool
    decision: RoutingDecision | None = None
    owner_username: str | None = None


def _advisory_keys(clean: dict) -> list[int]:
    # Advisory locks are database-wide: the schema is part of the key so tenants never wait on each other.
    names = [f"p:{clean['phone_normalized']}", f"e:{clean['email_normalized']}", f"x:{clean.get('external_id') or ''}"]
    return [_lock_key(name) for name in names if name[2:]]


def _lock_key(name: str) -> int:
    digest = hashlib.blake2b(f"{connection.schema_name}|{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _repeated(claim: Claim) -> tuple[Lead | None, str]:
    """The lead this submission repeats, by external id (its surviving lead), then phone, then e-mail."""
    for name in ("external_id", "phone", "email"):
        if name in claim.repeats:
            lead = Lead.objects.select_related("owner", "routing_rule").get(pk=claim.repeats[name])
            return (_survivor(lead) if name == "external_id" else lead), name
    return None, ""


def _survivor(lead: Lead) -> Lead:
    while lead.merged_into_id:
        lead = lead.merged_into
    return lead


def _username(lead: Lead) -> str | None:
    return lead.owner.get_username() if lead.owner_id else None


def lead_intake(
    *,
    clean: dict,
    actor,
    via: str,
    intake_key: IntakeKey | None = None,
    idempotency_key: str = "",
    request_hash: str = "",
    now: dt.datetime | None = None,
    rules: list[RoutingRule] | None = None,
) -> IntakeResult:
    """Store and route a validated submission, or attach it to the lead it duplicates.

    Nothing accepted is lost: a lead no rule or rep can take goes to the public pool.
    """
    arguments = {"clean": clean, "actor": actor, "via": via, "intake_key": intake_key, "idempotency_key": idempotency_key,
                 "request_hash": request_hash, "now": now, "rules": rules}
    if not connection.in_atomic_block:
        # Recounted (once a minute, by one process) before the transaction opens: the recount
        # writes reps' load rows, which must not be held while routing waits for a rule's lock.
        close_rates_all(now=now or timezone.now())
    try:
        return _lead_intake_once(**arguments)
    except (IntegrityError, ObjectDoesNotExist, OperationalError) as error:
        # Rules, reps and channels are remembered per process for seconds (salesflow.memo): one
        # deleted meanwhile is refused by the database. Forget this tenant's copies and try once
        # more. A deadlock (PostgreSQL chose this transaction; possible only while a roster
        # change's capacities are copied, leads.services.roster.pool_seats_store) is tried again
        # too. Inside a caller's transaction the failure is the caller's to handle.
        if connection.in_atomic_block or (isinstance(error, OperationalError) and not _deadlock(error)):
            raise
        memo_forget_tenant()
        return _lead_intake_once(**arguments)


def _deadlock(error: OperationalError) -> bool:
    return getattr(error.__cause__, "sqlstate", None) == "40P01"


def _lead_intake_once(*, clean, actor, via, intake_key, idempotency_key, request_hash, now, rules) -> IntakeResult:
    now = now or timezone.now()
    with transaction.atomic():
        # Scored and prepared for routing first: the statement that takes the locks, checks the key
        # and finds a replay or a repeated lead also makes the first pick when nothing repeats.
        score, breakdown = lead_score(
            policy=lead_policy_get(), industry_match=clean.get("industry_match"),
            budget_grade=clean.get("budget_grade", ""), channel=clean["channel"], tier=clean.get("tier", ""),
        )
        lead = Lead(
            **{name: clean.get(name) if name == "industry_match" else (clean.get(name) or "") for name in STORED_FIELDS},
            score=score, score_breakdown=breakdown, created_at=now,
        )
        outcome = route_prepare(lead=lead, now=now, rules=rules)
        claim = intake_claim(
            lock_keys=_advisory_keys(clean) + ([_idem_lock(intake_key, idempotency_key)] if idempotency_key else []),
            intake_key=intake_key, idempotency_key=idempotency_key if intake_key else "", clean=clean,
            pick=outcome.pick_request())
        if claim.replay is not None:
            lead_id, body_hash = claim.replay
            if body_hash != request_hash:
                raise IdempotencyMismatch(idempotency_key)
            lead = Lead.objects.select_related("owner", "routing_rule").get(pk=lead_id)
            return IntakeResult(lead=lead, created=False, owner_username=_username(lead))
        existing, matched_on = _repeated(claim)
        if existing is not None:
            _resubmission_attach(existing, clean=clean, matched_on=matched_on, actor=actor, via=via, now=now)
            _idem_save(intake_key, idempotency_key, request_hash, existing, now)
            return IntakeResult(lead=existing, created=False, owner_username=_username(existing))
        decision, owner_username, notification = lead_route(lead=lead, outcome=outcome, actor_label=via, now=now,
                                                            first=claim.picked, ids=claim.ids)
        _idem_save(intake_key, idempotency_key, request_hash, lead, now)  # its reference to the lead is checked at commit
        # One entry for the whole change: the lead as received and where it went, with the basis.
        # Stored with the lead, its decision and the owner's notification, in one statement.
        lead_store(lead, decision, notification=notification, audit=audit_entry_prepare(
            actor=actor, verb="lead.created", target=lead, at=now, payload={
                "via": via, "channel": lead.channel, "score": score, "external_id": lead.external_id,
                "routing": decision_payload(decision),
            }))
    return IntakeResult(lead=lead, created=True, decision=decision, owner_username=owner_username)


def decision_payload(decision: RoutingDecision) -> dict:
    return {
        "decision": decision.pk, "outcome": decision.outcome, "rule": decision.rule_name, "strategy": decision.strategy,
        "assignee_id": decision.assignee_id, "reason": decision.reason_message,
        # What is specific to this lead (chosen, skipped for a reason); every other candidate of the
        # pool was passed over because another came first, and is rebuilt from the roster version
        # and the pool basis (leads.selectors.decision_candidates).
        "candidates": [{k: c.get(k) for k in ("user_id", "verdict", "why")} for c in decision.candidates],
        "roster_version": decision.roster_version_id, "pool_basis": decision.pool_basis,
        "score": decision.score_breakdown.get("total"),
    }


def _idem_lock(intake_key, key: str) -> int:
    return _lock_key(f"i:{intake_key.pk if intake_key else 0}:{key}")


def _idem_save(intake_key, key, request_hash, lead, now):
    if key and intake_key is not None:
        IdempotencyRecord.objects.create(intake_key=intake_key, key=key, body_hash=request_hash, lead=lead, created_at=now)


def _resubmission_attach(lead: Lead, *, clean: dict, matched_on: str, actor, via: str, now) -> None:
    if matched_on == "external_id":
        return  # a replay of the same submission, not a new one
    submitted = {k: clean.get(k) for k in ("company", "contact_name", "phone", "email", "channel", "note") if clean.get(k)}
    touch = LeadTouch.objects.create(
        lead=lead, kind=LeadTouch.Kind.RESUBMISSION, channel=clean["channel"], note=clean.get("note") or "",
        payload={"matched_on": matched_on, "submitted": submitted, "via": via}, at=now,
    )
    if lead.owner_id:
        notify(
            recipients=[lead.owner_id], event_key=f"lead.resubmitted:{touch.pk}",
            title=i18n.message("lead.resubmitted.title", name=(lead.company or lead.contact_name)[:150]),
            body=i18n.message("lead.resubmitted.body", contact=clean.get("contact_name", ""),
                              channel=i18n.typed("vocab", ["channel", clean["channel"]])), link=f"/leads/{lead.pk}/", kind="assignment",
        )
    audit_record(actor=actor, verb="lead.resubmitted", target=lead, at=now, payload={"matched_on": matched_on, "channel": clean["channel"], "via": via})
