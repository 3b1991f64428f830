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
from .decide import lead_route
from .store import lead_store
from .routing import close_rates_all
from .scoring import lead_policy_get, lead_score

STORED_FIELDS = ("company", "contact_name", "phone", "email", "channel", "industry", "region", "product_line",
                 "budget_grade", "industry_match", "tier", "external_id", "note", "phone_normalized", "email_normalized")


class IdempotencyMismatch(Exception):
    """The same Idempotency-Key came back with a different body."""


class IntakeKeyRevoked(Exception):
    """The intake key was revoked after this request authenticated with it."""


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


def _locks_take(keys: list[int], intake_key: IntakeKey | None) -> None:
    """Take every advisory lock in one statement, in one global order, so two intakes sharing two keys
    cannot deadlock. It must be a statement of its own: the lookups that follow need a snapshot taken
    after the locks were granted. The same statement confirms the intake key is still active (the
    key itself is remembered per process for seconds: leads.services.keys)."""
    if not keys and intake_key is None:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(pg_advisory_xact_lock(k)), %s::bigint IS NULL OR EXISTS("
            f"SELECT 1 FROM {IntakeKey._meta.db_table} WHERE id = %s AND revoked_at IS NULL) "
            "FROM unnest(%s::bigint[]) AS k",
            [intake_key.pk if intake_key else None, intake_key.pk if intake_key else None, sorted(set(keys))],
        )
        if not cursor.fetchone()[1]:
            raise IntakeKeyRevoked(intake_key.prefix)


DEDUP_FIELDS = (("external_id", "external_id"), ("phone", "phone_normalized"), ("email", "email_normalized"))


def _existing(clean: dict) -> tuple[Lead | None, str]:
    """The lead this submission repeats, by external id, then phone, then e-mail: one query."""
    given = [(name, field, clean[field]) for name, field in DEDUP_FIELDS if clean.get(field)]
    if not given:
        return None, ""
    # Plain values first: most submissions are new and need nothing more. Each condition is one
    # partial unique index (leads_unique_*); a merged lead still answers for its external id. The
    # indexes' conditions are restated (`<> ''`) so that the prepared statement's generic plan,
    # which cannot see that the value is not blank, still proves it may use them: without, every
    # lookup was planned again (a custom plan) for the values at hand.
    match = " OR ".join(f"({field} = %s AND {field} <> ''{'' if name == 'external_id' else ' AND merged_into_id IS NULL'})"
                        for name, field, _ in given)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, merged_into_id, {', '.join(field for _, field, _ in given)} "
                       f"FROM {Lead._meta.db_table} WHERE {match} LIMIT 3", [value for _, _, value in given])
        found = cursor.fetchall()
    for place, (name, _field, value) in enumerate(given, start=2):
        for row in found:
            if row[place] == value and (name == "external_id" or row[1] is None):
                lead = Lead.objects.select_related("owner", "routing_rule").get(pk=row[0])
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
        _locks_take(_advisory_keys(clean) + ([_idem_lock(intake_key, idempotency_key)] if idempotency_key else []),
                    intake_key)
        if idempotency_key:
            record = (IdempotencyRecord.objects.filter(intake_key=intake_key, key=idempotency_key)
                      .select_related("lead__owner", "lead__routing_rule").first())
            if record is not None:
                if record.body_hash != request_hash:
                    raise IdempotencyMismatch(idempotency_key)
                return IntakeResult(lead=record.lead, created=False, owner_username=_username(record.lead))
        existing, matched_on = _existing(clean)
        if existing is not None:
            _resubmission_attach(existing, clean=clean, matched_on=matched_on, actor=actor, via=via, now=now)
            _idem_save(intake_key, idempotency_key, request_hash, existing, now)
            return IntakeResult(lead=existing, created=False, owner_username=_username(existing))
        score, breakdown = lead_score(
            policy=lead_policy_get(), industry_match=clean.get("industry_match"),
            budget_grade=clean.get("budget_grade", ""), channel=clean["channel"], tier=clean.get("tier", ""),
        )
        lead = Lead(
            **{name: clean.get(name) if name == "industry_match" else (clean.get(name) or "") for name in STORED_FIELDS},
            score=score, score_breakdown=breakdown, created_at=now,
        )
        decision, owner_username, notification = lead_route(lead=lead, actor_label=via, now=now, rules=rules)
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
