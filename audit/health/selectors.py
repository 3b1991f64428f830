"""What the health pages read: a manager's scope, its figures (remembered a few minutes), and the
records behind each figure."""
import datetime as dt
import hashlib
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone
from redis.exceptions import RedisError

from salesflow.memo import shared_get, shared_set
from salesflow.org.models import Member, Region, Role
from salesflow.org.scoping import visible_user_ids
from salesflow.org.selectors import tenant_settings_get

from .figures import (
    ACCOUNT, CONTACT, FU, FU_CONTACTS, LEAD, MEMBER, OPP, REGION, REP, SCOPE, TEAM_LEVEL, Counted, Figures, Thresholds,
    figures_count,
)
from .periods import Period, recent_months, rolling

CACHE_SECONDS = 300
CLOCK_STEP = dt.timedelta(minutes=5)
GENERATION_KEY = "health:generation"


def thresholds_get() -> Thresholds:
    return Thresholds.of(tenant_settings_get())


def health_clock(now: dt.datetime | None = None) -> dt.datetime:
    """The page's clock: now, floored to five minutes, so the figures of one window can be shared."""
    now = now or timezone.now()
    return now - (now - dt.datetime.min.replace(tzinfo=dt.UTC)) % CLOCK_STEP


def region_subtree(region_id: int) -> set[int]:
    children: dict[int | None, list[int]] = {}
    for ident, parent in Region.objects.values_list("id", "parent_id"):
        children.setdefault(parent, []).append(ident)
    seen, stack = set(), [region_id]
    while stack:
        current = stack.pop()
        if current not in seen:
            seen.add(current)
            stack.extend(children.get(current, []))
    return seen


def scope_members(*, user) -> QuerySet[Member]:
    """Members whose work `user` may see (salesflow.org.scoping); the health filter narrows it."""
    members = Member.objects.select_related("team", "region")
    visible = visible_user_ids(user)
    return members if visible is None else members.filter(user_id__in=visible)


def health_generation_bump() -> None:
    """Forget every remembered figure of this tenant (tests; a bulk import that rewrote history)."""
    try:
        from django.core.cache import cache

        cache.set(GENERATION_KEY, (shared_get(GENERATION_KEY) or 0) + 1, None)
    except RedisError:
        pass


def _counted(user_ids: list[int], periods: list[Period], now: dt.datetime, *, remember: bool) -> Counted:
    if not remember:
        return figures_count(user_ids=user_ids, periods=periods, now=now)
    digest = hashlib.sha1(repr((sorted(user_ids), [(p.key, p.start, p.end) for p in periods], now)).encode()).hexdigest()
    key = f"health:counted:{shared_get(GENERATION_KEY) or 0}:{digest}"
    found = shared_get(key)
    if found is None:
        found = figures_count(user_ids=user_ids, periods=periods, now=now).found
        shared_set(key, found, CACHE_SECONDS)
    return Counted(found=found)


@dataclass
class Row:
    ident: int | None
    name: str
    figures: Figures
    below: list[str]


@dataclass
class HealthBoard:
    period: Period
    as_of: dt.datetime
    limits: Thresholds
    scope: Figures
    verdicts: dict
    trend: list[tuple[Period, Figures, dict]]
    regions: list[Row]
    teams: list[Row]
    reps: list[Row]


def health_board(*, members: list[Member], period_key: str = "30d", now: dt.datetime | None = None,
                 remember: bool = True) -> HealthBoard:
    """The scope's figures for one period, per region, team and rep, and its 6-month trend."""
    now = health_clock(now) if remember else (now or timezone.now())
    tz = tenant_settings_get().tzinfo
    months = recent_months(now, tz=tz)
    periods = [*months, rolling(now)]
    chosen = next((i for i, p in enumerate(periods) if p.key == period_key), len(periods) - 1)
    user_ids = [m.user_id for m in members]
    counted = _counted(user_ids, periods, now, remember=remember)
    limits = thresholds_get()

    def row(level, ident, name) -> Row:
        figures = counted.get(level, ident, chosen)
        return Row(ident, name, figures, figures.below(limits))

    teams = {m.team_id: m.team.name for m in members if m.team_id}
    region_ids = {(m.team.region_id if m.team_id else m.region_id) for m in members} - {None}
    regions = dict(Region.objects.filter(pk__in=region_ids).values_list("pk", "name"))
    reps = [m for m in members if m.role == Role.REP or counted.get(REP, m.user_id, chosen).touches]
    scope = counted.get(SCOPE, None, chosen)
    return HealthBoard(
        period=periods[chosen], as_of=now, limits=limits, scope=scope, verdicts=scope.verdicts(limits),
        trend=[(p, counted.get(SCOPE, None, i), counted.get(SCOPE, None, i).verdicts(limits))
               for i, p in enumerate(months)],
        regions=[row(REGION, ident, name) for ident, name in sorted(regions.items(), key=lambda kv: kv[1])],
        teams=[row(TEAM_LEVEL, ident, name) for ident, name in sorted(teams.items(), key=lambda kv: kv[1])],
        reps=sorted((row(REP, m.user_id, m.full_name) for m in reps), key=lambda r: (-len(r.below), r.name)),
    )


def rep_figures(*, user_id: int, period: Period, now: dt.datetime) -> Figures:
    return figures_count(user_ids=[user_id], periods=[period], now=now).get(SCOPE, None, 0)


# --- The records behind the figures -------------------------------------------------------------


@dataclass
class UncoveredOpportunity:
    opportunity_id: int
    opportunity: str
    account_id: int
    account: str
    owner: str
    amount: object
    key_people: int
    untouched: list[str]


def opportunities_lacking_key_touches(*, user_ids: list[int], period: Period, limit: int = 50) -> tuple[int, list]:
    """Opportunities open in `period` whose key people were not all touched in it, biggest first,
    and how many there are in all."""
    return opportunities_lacking_key_touches_by_scope(scopes={0: user_ids}, period=period, limit=limit).get(0, (0, []))


def opportunities_lacking_key_touches_by_scope(*, scopes: dict[int, list[int]], period: Period,
                                               limit: int) -> dict[int, tuple[int, list[UncoveredOpportunity]]]:
    """The same for several scopes at once ({scope id: user ids}): {scope id: (total, biggest `limit`)}."""
    pairs = [(scope, user) for scope, users in scopes.items() for user in set(users)]
    if not pairs:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH scopes AS (
                SELECT * FROM unnest(%(scope_ids)s::bigint[], %(scope_users)s::bigint[]) AS s(scope_id, user_id)
            ), opp AS (
                SELECT o.id, o.name, o.owner_id, o.account_id, o.amount FROM {OPP} o
                WHERE o.owner_id IN (SELECT user_id FROM scopes)
                  AND o.created_at < %(e)s AND (o.is_open OR o.stage_entered_at >= %(s)s)
            ), chain AS (
                SELECT opp.id, count(c.id) AS key_people,
                       array_agg(c.name ORDER BY c.influence DESC, c.name) FILTER (
                           WHERE c.id IS NOT NULL AND NOT EXISTS (
                               SELECT 1 FROM {FU_CONTACTS} fc JOIN {FU} f ON f.id = fc.followup_id
                               WHERE fc.contact_id = c.id AND f.occurred_at >= %(s)s AND f.occurred_at < %(e)s
                                 AND f.corrects_id IS NULL)) AS untouched
                FROM opp LEFT JOIN {CONTACT} c ON c.account_id = opp.account_id AND c.is_key_person
                GROUP BY opp.id
            ), lacking AS (
                SELECT s.scope_id, opp.id, opp.name, opp.account_id, opp.owner_id, opp.amount, chain.key_people,
                       COALESCE(chain.untouched, '{{}}') AS untouched,
                       row_number() OVER (PARTITION BY s.scope_id ORDER BY opp.amount DESC, opp.id) AS n,
                       count(*) OVER (PARTITION BY s.scope_id) AS total
                FROM chain JOIN opp ON opp.id = chain.id JOIN scopes s ON s.user_id = opp.owner_id
                WHERE chain.key_people = 0 OR chain.untouched IS NOT NULL
            )
            SELECT l.scope_id, l.total, l.id, l.name, a.id, a.name, COALESCE(m.full_name, ''), l.amount, l.key_people,
                   l.untouched
            FROM lacking l JOIN {ACCOUNT} a ON a.id = l.account_id LEFT JOIN {MEMBER} m ON m.user_id = l.owner_id
            WHERE l.n <= %(limit)s ORDER BY l.scope_id, l.n
            """,
            {"scope_ids": [scope for scope, _ in pairs], "scope_users": [user for _, user in pairs],
             "s": period.start, "e": period.end, "limit": limit},
        )
        found: dict[int, tuple[int, list]] = {}
        for scope, total, *row in cursor.fetchall():
            found.setdefault(scope, (total, []))[1].append(UncoveredOpportunity(*row))
    return found


@dataclass
class WaitingLead:
    lead_id: int
    name: str
    owner: str
    assigned_at: dt.datetime
    first_touch_at: dt.datetime | None
    waited_seconds: float


def leads_waited_longest(*, user_ids: list[int], period: Period, now: dt.datetime, limit: int = 50) -> list[WaitingLead]:
    """Leads assigned in `period`, longest wait for a first touch first (still waiting: until now)."""
    if not user_ids:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT l.id, COALESCE(NULLIF(l.company, ''), l.contact_name), COALESCE(m.full_name, ''), l.assigned_at,
                   l.first_touch_at,
                   GREATEST(EXTRACT(EPOCH FROM COALESCE(l.first_touch_at, %(now)s) - l.assigned_at), 0) AS waited
            FROM {LEAD} l LEFT JOIN {MEMBER} m ON m.user_id = l.owner_id
            WHERE l.owner_id = ANY(%(users)s) AND l.assigned_at >= %(s)s AND l.assigned_at < %(e)s AND l.status <> 'merged'
            ORDER BY waited DESC, l.id LIMIT %(limit)s
            """,
            {"users": list(user_ids), "s": period.start, "e": period.end, "now": now, "limit": limit},
        )
        return [WaitingLead(*row[:5], float(row[5])) for row in cursor.fetchall()]


def user_get_in_scope(*, viewer, user_id: int):
    """The user `viewer` may diagnose (themself, or someone in their scope); None for anyone else."""
    visible = visible_user_ids(viewer)
    if visible is not None and user_id not in visible:
        return None
    return get_user_model().objects.select_related("member", "member__team").filter(pk=user_id, member__isnull=False).first()


@dataclass
class TouchedCustomer:
    account_id: int
    account: str
    owner: str
    touches: int
    last_touch_at: dt.datetime


def customers_fewest_touches(*, user_ids: list[int], period: Period, limit: int = 50) -> list[TouchedCustomer]:
    """The customers behind the density figure (touched by the scope in `period`), fewest touches first."""
    if not user_ids:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT a.id, a.name, COALESCE(m.full_name, ''), t.touches, t.last_at
            FROM (SELECT f.account_id, count(*) AS touches, max(f.occurred_at) AS last_at FROM {FU} f
                  WHERE f.author_id = ANY(%(users)s) AND f.occurred_at >= %(s)s AND f.occurred_at < %(e)s
                    AND f.corrects_id IS NULL GROUP BY f.account_id) t
            JOIN {ACCOUNT} a ON a.id = t.account_id LEFT JOIN {MEMBER} m ON m.user_id = a.owner_id
            ORDER BY t.touches, t.last_at, a.id LIMIT %(limit)s
            """,
            {"users": list(user_ids), "s": period.start, "e": period.end, "limit": limit},
        )
        return [TouchedCustomer(*row) for row in cursor.fetchall()]
