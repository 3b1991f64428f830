"""Counting closed deals by trait in one SQL statement over their summaries, then the statistics.

A deal's traits are what happened in its *window*: from its creation until `window_days` later,
or until it closed when that came sooner. Lost deals end sooner than won ones and have less
time to collect touches; without a common window, "more touches" would go with winning merely
because winning takes longer.
"""
import functools
import re
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import QuerySet

from followups.models import ActionKey, ClosedDeal, ContactRole
from followups.models_closed import CLOSED_DEAL_ACTIONS, CLOSED_DEAL_ROLES
from salesflow.org.scoping import scope_by_owner

from .statistics import Interval, benjamini_hochberg, fisher_exact_p, odds_ratio, wilson_interval

DEFAULT_WINDOW_DAYS = 30
COMBINATIONS_SHOWN = 8
MIN_CELL = 20  # fewer deals than this in a cell: shown greyed, marked too small, sorted last

# Dimensions: each deal has any number of the first three, exactly one of the others.
ROLE, ACTION, TEMPLATE = "role", "action", "template"
CHANNEL, FIRST_TOUCH, COVERAGE, COMBINATION = "channel", "first_touch", "coverage", "combination"
TRAIT_DIMENSIONS = (ROLE, ACTION, TEMPLATE)
BREAKDOWN_DIMENSIONS = (CHANNEL, FIRST_TOUCH, COVERAGE, COMBINATION)
ANY_KEY_PERSON = "*key"
# Coverage codes: the share of the account's key people touched in the window.
COVERAGE_NO_CHAIN, COVERAGE_NONE, COVERAGE_SOME, COVERAGE_ALL = "no_chain", "none", "some", "all"
CELL = "cell"  # the four dimensions at once: "channel|first touch|combination|coverage"


def closed_deals(*, user) -> QuerySet[ClosedDeal]:
    """The summaries of won and lost deals whose owners `user` may see: what the filters narrow."""
    return scope_by_owner(ClosedDeal.objects.order_by(), user, owner_field="owner_id")


@dataclass(frozen=True)
class Comparison:
    """One trait on one side: the 2×2 table of deals with / without it, won / lost."""

    dimension: str
    code: str
    won_with: int
    lost_with: int
    won_without: int
    lost_without: int
    p: float
    q: float  # Benjamini–Hochberg adjusted over every comparison of the side
    odds_ratio: float | None
    label: str = ""

    @property
    def n_with(self) -> int:
        return self.won_with + self.lost_with

    @property
    def n_without(self) -> int:
        return self.won_without + self.lost_without

    @property
    def rate_with(self) -> float | None:
        return self.won_with / self.n_with if self.n_with else None

    @property
    def rate_without(self) -> float | None:
        return self.won_without / self.n_without if self.n_without else None

    @property
    def interval_with(self) -> Interval | None:
        return wilson_interval(self.won_with, self.n_with)

    @property
    def interval_without(self) -> Interval | None:
        return wilson_interval(self.won_without, self.n_without)

    @property
    def share_of_won(self) -> float | None:
        """Among won deals, the share that had the trait."""
        won = self.won_with + self.won_without
        return self.won_with / won if won else None

    @property
    def lost_lacking(self) -> float | None:
        """Among lost deals, the share that lacked the trait (the seed's "73 % of lost deals lacked …")."""
        lost = self.lost_with + self.lost_without
        return self.lost_without / lost if lost else None

    @property
    def separation(self) -> float:
        """How much more often won deals had the trait than lost ones, −1 … 1."""
        won, lost = self.won_with + self.won_without, self.lost_with + self.lost_without
        if not won or not lost:
            return 0.0
        return self.won_with / won - self.lost_with / lost

    @property
    def too_small_with(self) -> bool:
        return self.n_with < MIN_CELL

    @property
    def too_small_without(self) -> bool:
        return self.n_without < MIN_CELL

    @property
    def too_small(self) -> bool:
        return self.too_small_with or self.too_small_without


@dataclass
class Side:
    """One region's (or the whole scope's) closed deals and every comparison on them."""

    region_id: int | None
    won: int = 0
    lost: int = 0
    comparisons: list[Comparison] = field(default_factory=list)
    cells: list["Cell"] = field(default_factory=list)

    @property
    def deals(self) -> int:
        return self.won + self.lost

    @property
    def win_rate(self) -> float | None:
        return self.won / self.deals if self.deals else None

    @property
    def win_interval(self) -> Interval | None:
        return wilson_interval(self.won, self.deals)

    def traits(self) -> list[Comparison]:
        """Actions, templates and decision roles, the most separating first; too-small ones last."""
        rows = [c for c in self.comparisons if c.dimension in TRAIT_DIMENSIONS]
        return sorted(rows, key=lambda c: (c.too_small, -abs(c.separation), c.dimension, c.code))

    def breakdown(self, dimension: str) -> list[Comparison]:
        """One categorical dimension, its largest groups first."""
        rows = [c for c in self.comparisons if c.dimension == dimension]
        return sorted(rows, key=lambda c: (-c.n_with, c.code))

    @property
    def breakdowns(self) -> dict[str, list[Comparison]]:
        """Each breakdown's groups; of the action combinations only the most common are shown."""
        shown = {dimension: self.breakdown(dimension) for dimension in BREAKDOWN_DIMENSIONS}
        shown[COMBINATION] = shown[COMBINATION][:COMBINATIONS_SHOWN]
        return shown

    @property
    def combinations_not_shown(self) -> tuple[int, int]:
        """(combinations, deals) beyond the most common ones."""
        rest = self.breakdown(COMBINATION)[COMBINATIONS_SHOWN:]
        return len(rest), sum(c.n_with for c in rest)


# The statement counts the closed-deal summaries (followups.ClosedDeal, one row per deal, kept
# by triggers when deals close and when anything before their close changes later). `picked`
# is the FilterSet's own query over them, selecting the columns below. Per deal it works out
# what happened within the window (offsets are microseconds after the deal was created), then:
# cell      deals per (lead channel, first-touch kind, action combination, coverage): the
#           four-way cross view, and every one-dimension breakdown and action summed from it;
#           coverage compares the sorted first-touch offsets of the key people with the window;
# roles     deals per (bit set of roles touched, any key person touched);
# template  deals per template used.
# Each counted won / lost on the left and on the right side. One pass over ~100,000 narrow
# rows, no follow-up read.
_COUNT_SQL = """
WITH RECURSIVE
side_region(side, region_id) AS (
    SELECT side, region_id FROM (VALUES (0, %(left)s::bigint), (1, %(right)s::bigint)) v(side, region_id)
    WHERE region_id IS NOT NULL
    UNION
    SELECT sr.side, r.id FROM org_region r JOIN side_region sr ON r.parent_id = sr.region_id
),
picked AS ({picked}),
deal AS MATERIALIZED (
    SELECT * FROM (
        SELECT s.won, s.channel, s.template_ids, s.template_at,
               %(left)s::bigint IS NULL
                   OR COALESCE(s.region_id IN (SELECT region_id FROM side_region WHERE side = 0), false) AS on_left,
               COALESCE(s.region_id IN (SELECT region_id FROM side_region WHERE side = 1), false) AS on_right,
               CASE WHEN s.first_at <= %(window)s THEN s.first_kind ELSE '' END AS first_kind,
               {actions} AS actions,
               {roles} AS roles,
               -- key_at is sorted: a key person was touched when its first element is within the
               -- window, all of them when the key_people-th one is.
               COALESCE(s.key_at[1] <= %(window)s, false) AS key_any,
               CASE WHEN s.key_people = 0 THEN 'no_chain'
                    WHEN NOT COALESCE(s.key_at[1] <= %(window)s, false) THEN 'none'
                    WHEN COALESCE(s.key_at[s.key_people] <= %(window)s, false) THEN 'all'
                    ELSE 'some' END AS coverage
        FROM picked s
    ) sided
    WHERE on_left OR on_right
)
SELECT 'cell', channel, first_kind, actions, coverage,
       count(*) FILTER (WHERE on_left AND won), count(*) FILTER (WHERE on_left AND NOT won),
       count(*) FILTER (WHERE on_right AND won), count(*) FILTER (WHERE on_right AND NOT won)
FROM deal GROUP BY channel, first_kind, actions, coverage
UNION ALL
SELECT 'roles', '', '', roles, key_any::text,
       count(*) FILTER (WHERE on_left AND won), count(*) FILTER (WHERE on_left AND NOT won),
       count(*) FILTER (WHERE on_right AND won), count(*) FILTER (WHERE on_right AND NOT won)
FROM deal GROUP BY roles, key_any
UNION ALL
SELECT 'template', '', '', id, '',
       count(*) FILTER (WHERE on_left AND won), count(*) FILTER (WHERE on_left AND NOT won),
       count(*) FILTER (WHERE on_right AND won), count(*) FILTER (WHERE on_right AND NOT won)
FROM (SELECT won, on_left, on_right, unnest(template_ids) AS id, unnest(template_at) AS at FROM deal) t
WHERE at <= %(window)s GROUP BY id
"""
# The bit of each action kind and decision role in the bit sets: the summary's array layout.
_ACTIONS = list(CLOSED_DEAL_ACTIONS)
_ROLES = list(CLOSED_DEAL_ROLES)
_PICKED_COLUMNS = ("won", "region_id", "channel", "first_kind", "first_at", "action_at", "role_at", "key_at",
                   "key_people", "template_ids", "template_at")
_MICROSECONDS_PER_DAY = 86_400_000_000


def _bit_set(column: str, codes: list[str]) -> str:
    """SQL for the bit set of the array positions whose offset falls within the window."""
    return "(" + " | ".join(
        f"(CASE WHEN s.{column}[{bit + 1}] <= %(window)s THEN {1 << bit} ELSE 0 END)" for bit in range(len(codes))
    ) + ")"


_STATEMENT = _COUNT_SQL.replace("{actions}", _bit_set("action_at", _ACTIONS)).replace(
    "{roles}", _bit_set("role_at", _ROLES))


@functools.lru_cache(maxsize=4096)
def _mask_codes(mask: int, codes: tuple[str, ...]) -> tuple[str, ...]:
    """The codes whose bits are set in `mask`, in layout order."""
    return tuple(code for bit, code in enumerate(codes) if mask & (1 << bit))


def _combination(mask: int) -> str:
    """A combination's bit set as its action codes, "demo+quote"; "" for touches only."""
    return "+".join(_mask_codes(mask, CLOSED_DEAL_ACTIONS))


def _picked_sql(deals: QuerySet) -> tuple[str, list]:
    compiler = deals.order_by().values(*_PICKED_COLUMNS).query.get_compiler(connection=connection)
    return compiler.as_sql()


@dataclass(frozen=True)
class Cell:
    """One combination of the four dimensions, on one side."""

    channel: str
    first_touch: str
    combination: str
    coverage: str
    won: int
    lost: int
    labels: tuple[str, str, str, str] = ("", "", "", "")

    @property
    def deals(self) -> int:
        return self.won + self.lost

    @property
    def win_rate(self) -> float | None:
        return self.won / self.deals if self.deals else None

    @property
    def interval(self) -> Interval | None:
        return wilson_interval(self.won, self.deals)

    @property
    def too_small(self) -> bool:
        return self.deals < MIN_CELL

    @property
    def actions(self) -> set[str]:
        return set(self.combination.split("+")) if self.combination else set()


@dataclass
class Counted:
    """One side's counts: won and lost deals, (dimension, code) → (won, lost) having it, the cells."""

    won: int = 0
    lost: int = 0
    counts: dict = field(default_factory=dict)
    cells: list[Cell] = field(default_factory=list)


def _add(counts: dict, key: tuple[str, str], won: int, lost: int) -> None:
    if won or lost:
        before = counts.get(key, (0, 0))
        counts[key] = (before[0] + won, before[1] + lost)


def _side_counts(rows: list[tuple], side: int) -> Counted:
    """One side's counts from the statement's rows. Thousands of cells on a big tenant: the
    action totals are summed per distinct combination, not per cell."""
    counted = Counted()
    counts = counted.counts
    per_mask: dict[int, tuple[int, int]] = {}
    for kind, channel, first_kind, mask, code, *numbers in rows:
        won, lost = numbers[2 * side], numbers[2 * side + 1]
        if not (won or lost):
            continue
        if kind == "cell":
            combination = _combination(mask)
            counted.won += won
            counted.lost += lost
            counted.cells.append(Cell(channel=channel, first_touch=first_kind, combination=combination,
                                      coverage=code, won=won, lost=lost))
            for key in ((CHANNEL, channel), (FIRST_TOUCH, first_kind), (COVERAGE, code)):
                _add(counts, key, won, lost)
            before = per_mask.get(mask, (0, 0))
            per_mask[mask] = (before[0] + won, before[1] + lost)
        elif kind == "roles":
            for role in _mask_codes(mask, CLOSED_DEAL_ROLES):
                _add(counts, (ROLE, role), won, lost)
            if code == "true":
                _add(counts, (ROLE, ANY_KEY_PERSON), won, lost)
        else:
            _add(counts, (TEMPLATE, str(mask)), won, lost)
    for mask, (won, lost) in per_mask.items():
        _add(counts, (COMBINATION, _combination(mask)), won, lost)
        for action in _mask_codes(mask, CLOSED_DEAL_ACTIONS):
            _add(counts, (ACTION, action), won, lost)
    counted.cells.sort(key=lambda c: (-(c.won + c.lost), c.channel, c.first_touch, c.combination, c.coverage))
    return counted


def attribution_count(*, deals: QuerySet, left_region_id: int | None, right_region_id: int | None,
                      window_days: int) -> dict[int, Counted]:
    """Per side (0 = left, 1 = right when a right region is given) the counts of the closed-deal
    summaries in `deals` (a ClosedDeal queryset). One statement."""
    picked, picked_params = _picked_sql(deals)
    named = {"left": left_region_id, "right": right_region_id, "window": window_days * _MICROSECONDS_PER_DAY}
    sql, params = _positional(_STATEMENT, named, picked, picked_params)
    with transaction.atomic(), connection.cursor() as cursor:
        # No JIT: compiling the plan would cost more than running it. work_mem: the deals' window
        # figures stay in memory rather than spill to a temporary file.
        cursor.execute("SELECT set_config('jit', 'off', true), set_config('work_mem', '32MB', true)")
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return {side: _side_counts(rows, side) for side in (0, 1)}


def _positional(template: str, named: dict, picked: str, picked_params: list) -> tuple[str, list]:
    """The FilterSet's SQL uses positional %s; the rest of the statement is written with names,
    so the names are turned into positions here, in the order they appear."""
    params: list = []
    pieces = re.split(r"(%\(\w+\)s|\{picked\})", template)
    out = []
    for piece in pieces:
        if piece == "{picked}":
            out.append(picked)
            params.extend(picked_params)
        elif piece.startswith("%(") and piece.endswith(")s"):
            out.append("%s")
            params.append(named[piece[2:-2]])
        else:
            out.append(piece)
    return "".join(out), params

def _comparisons(won: int, lost: int, counts: dict[tuple[str, str], tuple[int, int]]) -> list[Comparison]:
    keys = sorted(counts)
    tables = [(counts[k][0], counts[k][1], won - counts[k][0], lost - counts[k][1]) for k in keys]
    p_values = [fisher_exact_p(*table) for table in tables]
    q_values = benjamini_hochberg(p_values)
    return [
        Comparison(dimension=dimension, code=code, won_with=a, lost_with=b, won_without=c, lost_without=d,
                   p=p, q=q, odds_ratio=odds_ratio(a, b, c, d))
        for (dimension, code), (a, b, c, d), p, q in zip(keys, tables, p_values, q_values)
    ]


def _always_listed() -> list[tuple[str, str]]:
    roles = [(ROLE, role) for role in ContactRole.values] + [(ROLE, ANY_KEY_PERSON)]
    return roles + [(ACTION, action) for action in ActionKey.values if action != ActionKey.TOUCH]


def attribution_sides(*, deals: QuerySet, left_region_id: int | None, right_region_id: int | None,
                      window_days: int = DEFAULT_WINDOW_DAYS) -> list[Side]:
    """The left side (a region, or every deal in `deals`) and, when asked, the right one."""
    counted = attribution_count(deals=deals, left_region_id=left_region_id, right_region_id=right_region_id,
                                window_days=window_days)
    wanted = [(0, left_region_id)] + ([(1, right_region_id)] if right_region_id is not None else [])
    # Every side lists the same traits, a trait nobody showed included: "never" is a finding too.
    traits = set(_always_listed())
    for side in counted.values():
        traits.update(key for key in side.counts if key[0] in TRAIT_DIMENSIONS)
    sides = []
    for number, region_id in wanted:
        side = counted.get(number, Counted())
        counts = {**{key: (0, 0) for key in traits}, **side.counts}
        sides.append(Side(region_id=region_id, won=side.won, lost=side.lost, cells=side.cells,
                          comparisons=_comparisons(side.won, side.lost, counts)))
    return sides
