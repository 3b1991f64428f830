"""The three health figures, counted in PostgreSQL for a set of people over several periods at once.

One statement per measure: the periods are a VALUES list joined by time range, and
GROUPING SETS yield each rep, each team, each region and the whole scope in the same pass
(the scope's distinct customers and its median are counted over its own rows, never
averaged from the reps'). Medians are `percentile_cont(0.5)`.

- density: follow-ups (corrections excluded) per customer touched, per period;
- depth: opportunities open at some time in the period whose account's key people were
  every one touched (a follow-up naming them) in the period; an opportunity whose account
  has no key person on record counts as not covered (its decision chain is unknown);
- timeliness: median time from assignment to first touch of the leads assigned in the
  period; a lead never touched counts with the time it has waited so far.
"""
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection

from followups.models import Account, Contact, FollowUp, Opportunity
from leads.models import Lead, LeadStatus
from salesflow.org.models import Member, Team

from .periods import Period

FU = FollowUp._meta.db_table
FU_CONTACTS = FollowUp.contacts.through._meta.db_table
CONTACT = Contact._meta.db_table
OPP = Opportunity._meta.db_table
ACCOUNT = Account._meta.db_table
LEAD = Lead._meta.db_table
MEMBER = Member._meta.db_table
TEAM = Team._meta.db_table

REP, TEAM_LEVEL, REGION, SCOPE = "rep", "team", "region", "scope"
# GROUPING(user_id, team_id, region_id): a bit is set for each column grouped away.
_LEVELS = {0b011: REP, 0b101: TEAM_LEVEL, 0b110: REGION, 0b111: SCOPE}
# One scope: each rep, team, region and the whole; several scopes (the weekly report's
# managers): each scope's reps and the whole scope.
_ONE = {
    "groups": "GROUP BY GROUPING SETS ((p.idx, pe.scope_id, pe.user_id), (p.idx, pe.scope_id, pe.team_id), "
              "(p.idx, pe.scope_id, pe.region_id), (p.idx, pe.scope_id))",
    "select": "p.idx, pe.scope_id, GROUPING(pe.user_id, pe.team_id, pe.region_id), "
              "COALESCE(pe.user_id, pe.team_id, pe.region_id)",
}
_MANY = {
    "groups": "GROUP BY GROUPING SETS ((p.idx, pe.scope_id, pe.user_id), (p.idx, pe.scope_id))",
    "select": "p.idx, pe.scope_id, CASE WHEN GROUPING(pe.user_id) = 0 THEN 3 ELSE 7 END, pe.user_id",
}


@dataclass(frozen=True)
class Thresholds:
    density_min: Decimal
    depth_min: Decimal  # percent
    first_touch_hours_max: Decimal

    @property
    def first_touch_seconds(self) -> float:
        return float(self.first_touch_hours_max) * 3600

    @classmethod
    def of(cls, settings) -> "Thresholds":
        return cls(settings.health_density_min, settings.health_depth_min, settings.health_first_touch_hours_max)


@dataclass
class Figures:
    touches: int = 0
    customers: int = 0
    open_opportunities: int = 0
    covered_opportunities: int = 0
    leads: int = 0
    median_seconds: float | None = None

    @property
    def density(self) -> float | None:
        return round(self.touches / self.customers, 1) if self.customers else None

    @property
    def depth(self) -> float | None:
        return round(100 * self.covered_opportunities / self.open_opportunities, 1) if self.open_opportunities else None

    @property
    def timeliness_hours(self) -> float | None:
        return None if self.median_seconds is None else round(self.median_seconds / 3600, 1)

    def verdicts(self, limits: Thresholds) -> dict[str, bool | None]:
        """Per figure: True healthy, False not, None nothing to judge."""
        return {
            "density": None if self.density is None else self.density >= float(limits.density_min),
            "depth": None if self.depth is None else self.depth >= float(limits.depth_min),
            "timeliness": None if self.median_seconds is None
            else self.median_seconds <= float(limits.first_touch_hours_max) * 3600,
        }

    def below(self, limits: Thresholds) -> list[str]:
        return [name for name, ok in self.verdicts(limits).items() if ok is False]

    def as_dict(self) -> dict:
        return {"touches": self.touches, "customers": self.customers, "open": self.open_opportunities,
                "covered": self.covered_opportunities, "leads": self.leads, "median_seconds": self.median_seconds,
                "density": self.density, "depth": self.depth, "hours": self.timeliness_hours}


@dataclass
class Counted:
    """Figures per (scope, level, id, period index); id is None for the whole scope."""

    found: dict[tuple[int, str, int | None, int], Figures] = field(default_factory=dict)

    def get(self, level: str, ident: int | None, idx: int, *, scope: int = 0) -> Figures:
        return self.found.get((scope, level, ident, idx)) or Figures()

    def _slot(self, scope, grouping, ident, idx) -> Figures:
        return self.found.setdefault((scope, _LEVELS[grouping], ident, idx), Figures())


def _params(scopes: dict[int, list[int]], periods: list[Period], now: dt.datetime) -> dict:
    pairs = [(scope, user) for scope, users in scopes.items() for user in set(users)]
    return {
        "users": sorted({user for _, user in pairs}),
        "scope_ids": [scope for scope, _ in pairs], "scope_users": [user for _, user in pairs],
        "idx": list(range(len(periods))),
        "starts": [p.start for p in periods], "ends": [p.end for p in periods],
        "lo": min(p.start for p in periods), "hi": max(p.end for p in periods), "now": now,
    }


_PERIODS = "unnest(%(idx)s::int[], %(starts)s::timestamptz[], %(ends)s::timestamptz[]) AS p(idx, s, e)"
_PEOPLE = f"""
    people AS (
        SELECT s.scope_id, m.user_id, m.team_id, COALESCE(t.region_id, m.region_id) AS region_id
        FROM unnest(%(scope_ids)s::bigint[], %(scope_users)s::bigint[]) AS s(scope_id, user_id)
        JOIN {MEMBER} m ON m.user_id = s.user_id LEFT JOIN {TEAM} t ON t.id = m.team_id
    )"""


def _density(cursor, params, counted: Counted, shape: dict) -> None:
    cursor.execute(
        f"""
        WITH {_PEOPLE}
        SELECT {shape['select']}, count(*), count(DISTINCT f.account_id)
        FROM {FU} f JOIN people pe ON pe.user_id = f.author_id
        JOIN {_PERIODS} ON f.occurred_at >= p.s AND f.occurred_at < p.e
        WHERE f.author_id = ANY(%(users)s) AND f.occurred_at >= %(lo)s AND f.occurred_at < %(hi)s
          AND f.corrects_id IS NULL
        {shape['groups']}
        """,
        params,
    )
    for idx, scope, grouping, ident, touches, customers in cursor.fetchall():
        slot = counted._slot(scope, grouping, ident, idx)
        slot.touches, slot.customers = touches, customers


def _depth(cursor, params, counted: Counted, shape: dict) -> None:
    cursor.execute(
        f"""
        WITH {_PEOPLE},
        periods AS (SELECT * FROM {_PERIODS}),
        opp AS (
            SELECT o.id, o.owner_id, o.account_id, p.idx
            FROM {OPP} o JOIN periods p ON o.created_at < p.e AND (o.is_open OR o.stage_entered_at >= p.s)
            WHERE o.owner_id = ANY(%(users)s) AND o.created_at < %(hi)s AND (o.is_open OR o.stage_entered_at >= %(lo)s)
        ),
        key_people AS (
            SELECT c.id, c.account_id FROM {CONTACT} c
            WHERE c.is_key_person AND c.account_id IN (SELECT account_id FROM opp)
        ),
        touched AS (
            SELECT DISTINCT fc.contact_id, p.idx
            FROM {FU_CONTACTS} fc JOIN key_people k ON k.id = fc.contact_id
            JOIN {FU} f ON f.id = fc.followup_id
            JOIN periods p ON f.occurred_at >= p.s AND f.occurred_at < p.e
            WHERE f.occurred_at >= %(lo)s AND f.occurred_at < %(hi)s AND f.corrects_id IS NULL
        ),
        coverage AS (
            SELECT opp.idx, opp.owner_id, opp.id,
                   count(k.id) > 0 AND count(k.id) = count(t.contact_id) AS covered
            FROM opp LEFT JOIN key_people k ON k.account_id = opp.account_id
            LEFT JOIN touched t ON t.contact_id = k.id AND t.idx = opp.idx
            GROUP BY opp.idx, opp.owner_id, opp.id
        )
        SELECT {shape['select']}, count(*), count(*) FILTER (WHERE covered)
        FROM coverage p JOIN people pe ON pe.user_id = p.owner_id
        {shape['groups']}
        """,
        params,
    )
    for idx, scope, grouping, ident, total, covered in cursor.fetchall():
        slot = counted._slot(scope, grouping, ident, idx)
        slot.open_opportunities, slot.covered_opportunities = total, covered


def _timeliness(cursor, params, counted: Counted, shape: dict) -> None:
    cursor.execute(
        f"""
        WITH {_PEOPLE}
        SELECT {shape['select']}, count(*),
               percentile_cont(0.5) WITHIN GROUP (
                   ORDER BY GREATEST(EXTRACT(EPOCH FROM COALESCE(l.first_touch_at, %(now)s) - l.assigned_at), 0))
        FROM {LEAD} l JOIN people pe ON pe.user_id = l.owner_id
        JOIN {_PERIODS} ON l.assigned_at >= p.s AND l.assigned_at < p.e
        WHERE l.owner_id = ANY(%(users)s) AND l.assigned_at >= %(lo)s AND l.assigned_at < %(hi)s
          AND l.status <> %(merged)s
        {shape['groups']}
        """,
        params | {"merged": LeadStatus.MERGED},
    )
    for idx, scope, grouping, ident, leads, median in cursor.fetchall():
        slot = counted._slot(scope, grouping, ident, idx)
        slot.leads, slot.median_seconds = leads, None if median is None else float(median)


def figures_count(*, user_ids: list[int], periods: list[Period], now: dt.datetime) -> Counted:
    """The three figures of `user_ids` (and their teams, regions and all of them) in each period."""
    return _count({0: list(user_ids)}, periods, now, _ONE)


def scopes_figures_count(*, scopes: dict[int, list[int]], periods: list[Period], now: dt.datetime) -> Counted:
    """The figures of several scopes at once ({scope id: user ids}), each whole and per rep: one
    statement per measure for all of a tenant's managers, however many there are."""
    return _count(scopes, periods, now, _MANY)


def _count(scopes: dict[int, list[int]], periods: list[Period], now: dt.datetime, shape: dict) -> Counted:
    counted = Counted()
    if not any(scopes.values()) or not periods:
        return counted
    params = _params(scopes, periods, now)
    with connection.cursor() as cursor:
        _density(cursor, params, counted, shape)
        _depth(cursor, params, counted, shape)
        _timeliness(cursor, params, counted, shape)
    return counted
