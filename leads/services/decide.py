"""Routing a new lead in constant work, whatever the size of the pool.

The rule is matched as before; the pool's qualified and available reps come from the roster
index (leads.services.roster), remembered per roster version; one statement (leads.services.pick)
returns the strategy's first reps with a free slot and everyone at capacity; a guarded UPDATE
takes the slot. The decision stores only what is specific to this lead — the chosen rep and the
reps skipped for a reason — with the roster version and pool basis; the routing story rebuilds
every other candidate from them (leads.selectors.decision_candidates).
"""
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from salesflow import i18n
from salesflow.notifications.services import PendingNotification
from salesflow.org.selectors import tenant_settings_get

from ..models import Lead, LeadStatus, RoutingDecision, RoutingRule, Strategy
from .pick import Picked, PickRequest, Row, pool_pick
from .roster import PoolIndex, pool_index, pool_seats_store, roster_current, roster_store, rule_basis
from .routing import (DEFAULT_TOP_RATE, assignment_notification, close_rates_all, no_match_reason, rule_match, rule_wants,
                      rules_active)
from .store import lead_ids_reserve


class Routed(NamedTuple):
    decision: RoutingDecision
    owner_username: str | None
    notification: PendingNotification | None  # the new owner's, not inserted yet


@dataclass
class Outcome:
    rule: RoutingRule | None
    strategy: str
    reason: dict
    chosen: Row | None = None
    chosen_name: tuple[str, str] | None = None  # (username, full name)
    tried: bool = False  # someone had a free slot when routing began
    candidates: list[dict] = field(default_factory=list)
    roster: str | None = None
    basis: dict = field(default_factory=dict)
    ids: tuple[int, int] | None = None  # reserved for the lead and its decision with the slot
    index: PoolIndex | None = None  # the pool to pick from: someone in it is available

    def pick_request(self) -> PickRequest | None:
        """The first pick to make, for a caller that makes it in a statement of its own (leads.services.claim)."""
        return PickRequest(self.strategy, self.index.key, self.rule.pk) if self.index is not None else None


def route_prepare(*, lead: Lead, now: dt.datetime, rules: list[RoutingRule] | None = None) -> Outcome:
    """Match the rule and find its pool (the roster version and the pool's seats stored): everything
    of routing but the pick, which `lead_route` makes unless the caller made the first one."""
    return _decide(lead, rules=rules if rules is not None else rules_active(), now=now)


def lead_route(*, lead: Lead, outcome: Outcome, actor_label: str, now: dt.datetime, first: Picked | None = None,
               ids: tuple[int, int] | None = None) -> Routed:
    """Route a new lead as prepared (`route_prepare`): its owner (or the pool), the decision, and the
    owner's notification. `first` is the first pick when the caller made it, `ids` the lead's and
    decision's ids when the caller reserved them.

    The rep's slot is taken here; the lead, the decision and the notification get their ids but
    are not written: the calling service stores them with its audit entry in one statement
    (leads.services.store.lead_store).
    """
    if outcome.index is not None:
        _take_slot(outcome, outcome.index, now=now, made=first)
    if outcome.chosen is not None:
        lead.status, lead.owner_id, lead.assigned_at, lead.pool_since = LeadStatus.ASSIGNED, outcome.chosen.user_id, now, None
        reason = i18n.message("routing.assigned_to", reason=i18n.nested(outcome.reason), rep=outcome.chosen_name[1])
        kind = RoutingDecision.Outcome.ASSIGNED
    else:
        reason = i18n.message("routing.filled_up", reason=i18n.nested(outcome.reason)) if outcome.tried else outcome.reason
        lead.status, lead.owner_id, lead.assigned_at, lead.pool_since = LeadStatus.POOL, None, None, now
        kind = RoutingDecision.Outcome.POOL
    lead.routing_rule = outcome.rule
    lead.routing_reason, lead.routing_reason_message = "", reason
    lead.pk, decision_id = outcome.ids or ids or lead_ids_reserve()
    decision = RoutingDecision(
        pk=decision_id, lead=lead, rule=outcome.rule, rule_name=outcome.rule.name if outcome.rule else "",
        strategy=outcome.strategy, outcome=kind, assignee_id=lead.owner_id, candidates=outcome.candidates,
        score_breakdown=lead.score_breakdown, reason_message=reason, actor_label=actor_label, decided_at=now,
        roster_version_id=outcome.roster, pool_basis=outcome.basis,
    )
    if outcome.chosen is None:
        return Routed(decision, None, None)
    return Routed(decision, outcome.chosen_name[0],
                  assignment_notification(lead=lead, decision=decision, user=outcome.chosen.user_id))


def _decide(lead: Lead, *, rules: list[RoutingRule], now: dt.datetime) -> Outcome:
    rule = rule_match(rules, lead)
    if rule is None:
        return Outcome(rule=None, strategy=Strategy.PUBLIC_POOL, reason=i18n.message("routing.no_rule"))
    if rule.strategy == Strategy.PUBLIC_POOL:
        return Outcome(rule=rule, strategy=rule.strategy, reason=i18n.message("routing.rule_to_pool", rule=rule.name))
    settings_ = tenant_settings_get()
    roster = roster_current()
    basis = rule_basis(rule, lead, today=now.astimezone(settings_.tzinfo).date(), new_hire_days=settings_.new_hire_days)
    index = pool_index(roster, basis)
    if not index.available and not index.away:
        return Outcome(rule=rule, strategy=rule.strategy, reason=no_match_reason(rule, rule_wants(rule, lead)))
    roster_store(roster)
    outcome = Outcome(rule=rule, strategy=rule.strategy, reason={}, candidates=list(index.away),
                      roster=roster.digest, basis=basis)
    if not index.available:
        outcome.reason = i18n.message("routing.nobody_free", pool=rule.pool_label or rule.name)
        return outcome
    pool_seats_store(index, ranks=lambda: _ranks(now))
    outcome.index = index
    return outcome


def _take_slot(outcome: Outcome, index: PoolIndex, *, now: dt.datetime, made: Picked | None) -> None:
    """One statement picks the strategy's first free rep and takes their slot (`made`, when the
    caller made it); again only when that rep filled up meanwhile (they are named, and the next is tried)."""
    rule, pool_name = outcome.rule, outcome.rule.pool_label or outcome.rule.name
    tried, named = [], set()
    while True:
        picked = made if made is not None else pool_pick(rule.strategy, pool=index.key, rule_id=rule.pk, exclude=tried)
        made = None  # the caller's pick is the first only
        if not (picked.free or picked.full or tried):
            # No seats: written by a transaction that did not commit after all. Write them again.
            pool_seats_store(index, ranks=lambda: _ranks(now), force=True)
            picked = pool_pick(rule.strategy, pool=index.key, rule_id=rule.pk, exclude=tried)
        for row in picked.full:
            if row.user_id not in named:
                named.add(row.user_id)
                outcome.candidates.append({"user_id": row.user_id, "verdict": "skipped", "open": row.open,
                                           "capacity": row.capacity, "why": i18n.message(
                                               "routing.why.capacity", open=row.open, capacity=row.capacity)})
        if not picked.free:
            break
        first = picked.free[0]
        if not outcome.reason:
            outcome.reason = _strategy_reason(rule, pool_name, first)
            outcome.tried = True
        if picked.taken == first.user_id:
            outcome.ids = picked.ids
            _chosen(outcome, index, first)
            return
        tried.append(first.user_id)
        named.add(first.user_id)
        outcome.candidates.append({"user_id": first.user_id, "verdict": "skipped", "why": i18n.message("routing.why.filled")})
    if not outcome.tried:
        outcome.reason = i18n.message("routing.nobody_free", pool=pool_name)


def _chosen(outcome: Outcome, index: PoolIndex, row: Row) -> None:
    rep = index.by_id[row.user_id]
    outcome.chosen, outcome.chosen_name = row, (rep.username, rep.full_name)
    entry = {"user_id": row.user_id, "verdict": "chosen", "why": outcome.reason, "open": row.open, "capacity": row.capacity}
    if outcome.strategy == Strategy.TOP_PERFORMER:
        entry["close_rate_7d"] = f"{row.rank:.3f}"
    outcome.candidates.append(entry)


def _strategy_reason(rule: RoutingRule, pool_name: str, first: Row) -> dict:
    if rule.strategy == Strategy.ROUND_ROBIN:
        return i18n.message("routing.round_robin", pool=pool_name)
    if rule.strategy == Strategy.LEAST_LOADED:
        return i18n.message("routing.least_loaded", pool=pool_name)
    threshold = rule.min_close_rate if rule.min_close_rate is not None else DEFAULT_TOP_RATE
    key = "routing.top" if Decimal(first.rank) > threshold else "routing.top_fallback"
    return i18n.message(key, pool=pool_name, rate=f"{first.rank:.0%}", threshold=f"{threshold:.0%}")


def _ranks(now: dt.datetime) -> dict[int, float]:
    """Each rep's 7-day close rate, for the load rows a new pool writes (existing rows are kept
    up to date by the recount, leads.services.routing.close_rates_all)."""
    return {user_id: float(won / total) if total else 0.0 for user_id, (won, total) in close_rates_all(now=now).items()}
