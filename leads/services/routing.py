"""Routing: which rule matches a lead, which reps it considers, and who gets the lead.

`routing_plan` evaluates every rep of the pool and only reads: the admin's dry run shows it,
and it is the reference the constant-work routing of intake (leads.services.decide) and the
rebuilt routing story (leads.selectors) are tested against. Taking a slot is the database's
guard: the round-robin cursor is the rule row, locked for the transaction, and a rep's
capacity is one guarded UPDATE on their load row. Lock order is always rule row → one rep's
load row → audit chain head, so routing cannot deadlock.
"""
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.contrib.auth import get_user_model
from django.db.models import Count, F, Prefetch, Q
from django.utils import timezone

from salesflow import i18n
from salesflow.memo import memo_forget, memo_get, remembered, remembered_forget, shared_claim, shared_get, shared_set
from salesflow.notifications.services import PendingNotification, notification_prepare, notify
from salesflow.org.models import Member, Region, Role, Team
from salesflow.org.selectors import RepProfile, rep_roster, tenant_settings_get

from ..models import Lead, LeadStatus, RepLoad, RoutingDecision, RoutingRule, Strategy
from ..models.load import NO_CAPACITY_YET
from .roster import away_why, pool_select, rule_basis

DEFAULT_TOP_RATE = Decimal("0.85")


@dataclass
class Plan:
    rule: RoutingRule | None
    strategy: str
    order: list[RepProfile] = field(default_factory=list)  # eligible reps, most preferred first
    candidates: list[dict] = field(default_factory=list)
    reason: dict = field(default_factory=dict)  # a stored message (salesflow.i18n)

    @property
    def first(self) -> RepProfile | None:
        return self.order[0] if self.order else None


RULES_CACHE_KEY = "leads:routing-rules"
RULES_CACHE_SECONDS = 30


def rules_active() -> list[RoutingRule]:
    """The enabled rules in order, pool members prefetched; remembered in this process for a few
    seconds and cached per tenant in Redis (the key function adds the schema). Every writer of
    rules calls `rules_forget`; the short timeouts bound anything else."""
    return remembered(RULES_CACHE_KEY, _rules_load, shared_seconds=RULES_CACHE_SECONDS)


def _rules_load() -> list[RoutingRule]:
    # Only ids of the pool's teams, regions and users: the cached copy carries no personal data.
    return list(
        RoutingRule.objects.filter(enabled=True)
        .prefetch_related(
            Prefetch("pool_teams", queryset=Team.objects.only("id")),
            Prefetch("pool_regions", queryset=Region.objects.only("id")),
            Prefetch("pool_users", queryset=get_user_model().objects.only("id")),
        )
        .order_by("position", "id")
    )


def rules_forget() -> None:
    remembered_forget(RULES_CACHE_KEY)


def rule_match(rules: list[RoutingRule], lead: Lead) -> RoutingRule | None:
    return next((rule for rule in rules if rule.matches(lead)), None)


def _pool_reps(rule: RoutingRule, lead: Lead, *, today: dt.date, new_hire_days: int) -> tuple[list[RepProfile], list]:
    """The reps of the rule's pool matching the lead, and what the rule asked of them (stored messages)."""
    basis = rule_basis(rule, lead, today=today, new_hire_days=new_hire_days)
    return pool_select(rep_roster(), basis), rule_wants(rule, lead)


def rule_wants(rule: RoutingRule, lead: Lead) -> list:
    wanted = []
    if rule.match_lead_region:
        wanted.append(_want("region", ("region", lead.region)))
    if rule.match_lead_product_line:
        wanted.append(_want("product_line", ("product_line", lead.product_line)))
    if rule.match_lead_industry:
        wanted.append(_want("industry", ("industry", lead.industry)))
    if rule.min_years_experience is not None:
        wanted.append(i18n.nested(i18n.message("routing.want.years", years=rule.min_years_experience)))
    if rule.new_hires_only:
        wanted.append(i18n.nested(i18n.message("routing.want.new_hires")))
    return wanted


def no_match_reason(rule: RoutingRule, wanted: list) -> dict:
    wanted_text = i18n.listing(wanted) if wanted else i18n.nested(i18n.message("routing.want.rule"))
    return i18n.message("routing.no_match", pool=rule.pool_label or rule.name, wanted=wanted_text)


def _want(what: str, vocab: tuple[str, str]) -> dict:
    return i18n.nested(i18n.message(f"routing.want.{what}", value=i18n.typed("vocab", list(vocab))))


def _open_counts(user_ids: list[int]) -> dict[int, int]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT user_id, open_count FROM {RepLoad._meta.db_table} WHERE user_id = ANY(%s)", [user_ids])
        return dict(cursor.fetchall())


CLOSE_RATES_CACHE_KEY = "leads:close-rates-7d"
CLOSE_RATES_FRESH = dt.timedelta(seconds=60)


def _close_rates(user_ids: list[int], *, now: dt.datetime) -> dict[int, tuple[int, int]]:
    rates = close_rates_all(now=now)
    return {user_id: rates[user_id] for user_id in user_ids if user_id in rates}


def close_rates_all(*, now: dt.datetime) -> dict[int, tuple[int, int]]:
    """(converted, assigned) over the last 7 days per rep.

    A 7-day rate moves slowly: all reps' figures come from one grouped query, kept for a
    minute. When they age, one process recomputes them while the others go on with the
    previous figures, so intake never queues behind the recount.
    """
    cached = memo_get(CLOSE_RATES_CACHE_KEY, lambda: shared_get(CLOSE_RATES_CACHE_KEY))
    stale = cached is None or cached["computed_at"] < timezone.now() - CLOSE_RATES_FRESH
    if stale and (cached is None or shared_claim(f"{CLOSE_RATES_CACHE_KEY}:recount", 30)):
        cached = {"computed_at": timezone.now(), "rates": _close_rates_count(now=now)}
        _ranks_store(cached["rates"])
        shared_set(CLOSE_RATES_CACHE_KEY, cached, 3600)
        memo_forget(CLOSE_RATES_CACHE_KEY)
    return cached["rates"]


def _ranks_store(rates: dict[int, tuple[int, int]]) -> None:
    """Copy the recounted rates into the load rows, where the top performer's pick reads them
    (an index in rate order). Never waits: a row another transaction holds keeps its rate
    until the next recount. Intake recounts before its transaction opens (lead_intake), so
    these row locks are never held while it waits for a routing rule's."""
    ids = list(rates)
    values = [float(won / total) if total else 0.0 for won, total in rates.values()]
    load = RepLoad._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""WITH x AS (
                    SELECT o.user_id, COALESCE(r.rate, 0) AS rate
                      FROM {load} o LEFT JOIN unnest(%s::bigint[], %s::float8[]) AS r(user_id, rate) USING (user_id)
                     WHERE o.rank <> COALESCE(r.rate, 0)
                ), free AS (
                    SELECT l.user_id FROM {load} l JOIN x USING (user_id) ORDER BY l.user_id FOR UPDATE OF l SKIP LOCKED
                )
                UPDATE {load} l SET rank = x.rate FROM x JOIN free USING (user_id) WHERE l.user_id = x.user_id""",
            [ids, values],
        )


def _close_rates_count(*, now: dt.datetime) -> dict[int, tuple[int, int]]:
    # Rep by rep along (owner, assigned_at): a million-lead table is never scanned.
    reps = Member.objects.filter(role=Role.REP).values("user_id")
    rows = (
        Lead.objects.filter(owner_id__in=reps, assigned_at__gte=now - dt.timedelta(days=7))
        .values("owner_id")
        .annotate(total=Count("id"), won=Count("id", filter=Q(status=LeadStatus.CONVERTED)))
        .order_by()
    )
    return {row["owner_id"]: (row["won"], row["total"]) for row in rows}


def routing_plan(lead: Lead, *, rules: list[RoutingRule] | None = None, now: dt.datetime | None = None, lock: bool = False) -> Plan:
    """Where `lead` would go and why; with `lock`, the round-robin cursor is read under its row lock."""
    now = now or timezone.now()
    settings_ = tenant_settings_get()
    today = now.astimezone(settings_.tzinfo).date()
    rule = rule_match(rules if rules is not None else rules_active(), lead)
    if rule is None:
        return Plan(rule=None, strategy=Strategy.PUBLIC_POOL, reason=i18n.message("routing.no_rule"))
    if rule.strategy == Strategy.PUBLIC_POOL:
        return Plan(rule=rule, strategy=rule.strategy, reason=i18n.message("routing.rule_to_pool", rule=rule.name))
    reps, wanted = _pool_reps(rule, lead, today=today, new_hire_days=settings_.new_hire_days)
    pool_name = rule.pool_label or rule.name
    if not reps:
        return Plan(rule=rule, strategy=rule.strategy, reason=no_match_reason(rule, wanted))
    loads = _open_counts([rep.user_id for rep in reps])
    candidates, eligible = [], []
    for rep in reps:
        load = loads.get(rep.user_id, 0)
        entry = {"user_id": rep.user_id, "name": rep.full_name, "open": load, "capacity": rep.capacity}
        if not rep.is_available_on(today):
            entry.update(verdict="skipped", why=away_why(rep))
        elif load >= rep.capacity:
            entry.update(verdict="skipped", why=i18n.message("routing.why.capacity", open=load, capacity=rep.capacity))
        else:
            entry.update(verdict="eligible", why="")
            eligible.append(rep)
        candidates.append(entry)
    by_id = {c["user_id"]: c for c in candidates}
    if not eligible:
        return Plan(rule=rule, strategy=rule.strategy, candidates=candidates,
                    reason=i18n.message("routing.nobody_free", pool=pool_name))
    if rule.strategy == Strategy.ROUND_ROBIN:
        if lock:
            # Taken as late as possible: the row lock serialises this rule's intakes until commit.
            last = RoutingRule.objects.select_for_update().values_list("rr_last_user_id", flat=True).get(pk=rule.pk)
        else:
            last = rule.rr_last_user_id  # the rule object may be a shared, remembered copy: read, never written
        after = [m for m in eligible if last is not None and m.user_id > last]
        order = after + [m for m in eligible if m not in after]
        reason = i18n.message("routing.round_robin", pool=pool_name)
    elif rule.strategy == Strategy.LEAST_LOADED:
        order = sorted(eligible, key=lambda m: (loads.get(m.user_id, 0) / max(m.capacity, 1), loads.get(m.user_id, 0), m.user_id))
        reason = i18n.message("routing.least_loaded", pool=pool_name)
    else:  # top performer
        threshold = rule.min_close_rate if rule.min_close_rate is not None else DEFAULT_TOP_RATE
        rates = _close_rates([m.user_id for m in eligible], now=now)
        def rate(m):
            won, total = rates.get(m.user_id, (0, 0))
            return Decimal(won) / total if total else Decimal(0)
        for m in eligible:
            by_id[m.user_id]["close_rate_7d"] = f"{rate(m):.3f}"
        order = sorted(eligible, key=lambda m: (-rate(m), loads.get(m.user_id, 0), m.user_id))
        qualified = [m for m in order if rate(m) > threshold]
        key = "routing.top" if qualified else "routing.top_fallback"
        reason = i18n.message(key, pool=pool_name, rate=f"{rate(order[0]):.0%}", threshold=f"{threshold:.0%}")
    return Plan(rule=rule, strategy=rule.strategy, order=order, candidates=candidates, reason=reason)


def rep_slot_take(user_id: int, *, turn_of_rule: int | None = None) -> bool:
    """Take one capacity slot of a rep; False when they are full (decided by the database, in one statement).

    With `turn_of_rule`, the same statement moves that round-robin rule's cursor to the rep
    when, and only when, the slot was taken. The load row's copy of the capacity is refreshed.
    """
    load, member, rule = RepLoad._meta.db_table, Member._meta.db_table, RoutingRule._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""WITH slot AS (
                    INSERT INTO {load} AS load (user_id, open_count, capacity)
                    SELECT user_id, 1, capacity FROM {member} WHERE user_id = %(user)s AND capacity > 0
                    ON CONFLICT (user_id) DO UPDATE SET open_count = load.open_count + 1, capacity = EXCLUDED.capacity
                    WHERE load.open_count < EXCLUDED.capacity
                    RETURNING user_id
                ), turn AS (
                    UPDATE {rule} SET rr_last_user_id = slot.user_id FROM slot WHERE {rule}.id = %(rule)s
                )
                SELECT count(*) FROM slot""",
            {"user": user_id, "rule": turn_of_rule},
        )
        return cursor.fetchone()[0] == 1


def rep_slot_force(user_id: int) -> None:
    """A manager's explicit assignment may exceed capacity; it is still counted."""
    load, member = RepLoad._meta.db_table, Member._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {load} AS load (user_id, open_count, capacity)
                SELECT %(user)s, 1, COALESCE((SELECT capacity FROM {member} WHERE user_id = %(user)s), {NO_CAPACITY_YET})
                ON CONFLICT (user_id) DO UPDATE SET open_count = load.open_count + 1, capacity = EXCLUDED.capacity""",
            {"user": user_id},
        )


def rep_slot_release(user_id: int | None) -> None:
    if user_id is not None:
        RepLoad.objects.filter(user_id=user_id, open_count__gt=0).update(open_count=F("open_count") - 1)


def rep_capacity_copy(user_id: int, capacity: int) -> None:
    """A member's capacity changed: their load row's copy follows, in the same transaction."""
    RepLoad.objects.filter(user_id=user_id).exclude(capacity=capacity).update(capacity=capacity)


def assignment_notify(*, lead: Lead, decision: RoutingDecision, user) -> None:
    notify(**_assignment_message(lead=lead, decision=decision, user=user))


def assignment_notification(*, lead: Lead, decision: RoutingDecision, user) -> PendingNotification | None:
    """The new owner's notification, to be inserted with the lead (see assignment_notify)."""
    return notification_prepare(**_assignment_message(lead=lead, decision=decision, user=user))


def _assignment_message(*, lead: Lead, decision: RoutingDecision, user) -> dict:
    grade = i18n.nested(i18n.message("lead.grade", grade=lead.budget_grade)) if lead.budget_grade else ""
    details = i18n.listing([
        lead.contact_name, i18n.typed("vocab", ["industry", lead.industry]) if lead.industry else "",
        i18n.typed("vocab", ["product_line", lead.product_line]) if lead.product_line else "", grade,
    ])
    return {
        "recipients": [user],
        "event_key": f"lead.assigned:{lead.pk}:{decision.pk}",
        "title": i18n.message("lead.assigned.title", name=(lead.company or lead.contact_name)[:150]),
        "body": i18n.message("lead.assigned.body", details=details, reason=i18n.nested(decision.reason_message)),
        "link": f"/leads/{lead.pk}/",
        "kind": "assignment",
        "payload": {"lead_id": lead.pk, "decision_id": decision.pk},
    }
