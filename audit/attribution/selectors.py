"""Counting closed deals by trait in one SQL statement, then the statistics per trait.

A deal's traits are what happened in its *window*: from its creation until `window_days` later,
or until it closed when that came sooner. Lost deals end sooner than won ones and have less
time to collect touches; without a common window, "more touches" would go with winning merely
because winning takes longer.
"""
import re
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import QuerySet

from followups.models import ActionKey, ContactRole, FollowUpKind, Opportunity, Outcome, Stage
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


def closed_deals(*, user) -> QuerySet[Opportunity]:
    """Won and lost opportunities whose owners `user` may see: what the filters narrow.

    The closing stages are looked up first: PostgreSQL then estimates the closed deals from
    the opportunity table's own statistics on `stage_id` (a join to the small, rarely analysed
    stage table made it guess a few hundred rows for 100,000 and pick nested loops)."""
    closing = list(Stage.objects.filter(outcome__in=[Outcome.WON, Outcome.LOST]).values_list("pk", flat=True))
    closed = Opportunity.objects.filter(is_open=False, stage_id__in=closing).order_by()
    return scope_by_owner(closed, user)


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


# The statement reads the filtered deals from the FilterSet's own query (`picked`), then:
# deal      one row per deal on either side: won?, on the left / right side (the region of the
#           owner's team, else the owner's own, within the picked region's subtree), window end;
# touch     its follow-ups inside the window (corrections excluded: the original counts once);
# summary   one row per deal: first touch kind, action kinds and roles touched (as bit sets),
#           key people touched against the chain's key people;
# trait     the summary unrolled to (dimension, code) rows, counted per side, won and lost.
# Everything is hash joins and hash aggregates (bit sets instead of DISTINCT/ORDER BY inside
# aggregates, which would sort), so the cost grows with the deals and their follow-ups.
_COUNT_SQL = """
WITH RECURSIVE
side_region(side, region_id) AS (
    SELECT side, region_id FROM (VALUES (0, %(left)s::bigint), (1, %(right)s::bigint)) v(side, region_id)
    WHERE region_id IS NOT NULL
    UNION
    SELECT sr.side, r.id FROM org_region r JOIN side_region sr ON r.parent_id = sr.region_id
),
picked AS ({picked}),
placed AS (
    SELECT o.id, o.account_id, st.outcome = 'won' AS won, COALESCE(t.region_id, m.region_id) AS region_id,
           LEAST(o.created_at + make_interval(days => %(window)s), o.stage_entered_at) AS cutoff,
           COALESCE(l.channel, '') AS channel
    FROM followups_opportunity o
    JOIN picked p ON p.id = o.id
    JOIN followups_stage st ON st.id = o.stage_id
    LEFT JOIN org_member m ON m.user_id = o.owner_id
    LEFT JOIN org_team t ON t.id = m.team_id
    LEFT JOIN leads_lead l ON l.id = o.source_lead_id
),
deal AS MATERIALIZED (
    SELECT * FROM (
        SELECT id, account_id, won, cutoff, channel,
               %(left)s::bigint IS NULL
                   OR COALESCE(region_id IN (SELECT region_id FROM side_region WHERE side = 0), false) AS on_left,
               COALESCE(region_id IN (SELECT region_id FROM side_region WHERE side = 1), false) AS on_right
        FROM placed
    ) sided
    WHERE on_left OR on_right
),
touch AS MATERIALIZED (
    SELECT f.id, f.opportunity_id AS deal_id, f.kind, f.action, f.template_id, f.occurred_at
    FROM followups_followup f JOIN deal d ON d.id = f.opportunity_id
    WHERE f.corrects_id IS NULL AND f.occurred_at <= d.cutoff
),
touch_summary AS (
    -- The first touch's kind rides along in one number: microseconds since 1970, times 8, plus
    -- the kind's position; the smallest is the earliest (at the same microsecond, the kind listed first).
    SELECT deal_id, bit_or(1 << (array_position(%(actions)s::text[], action::text) - 1)) AS actions,
           min((extract(epoch FROM occurred_at) * 1000000)::bigint * 8
               + array_position(%(kinds)s::text[], kind::text)) %% 8 AS first_kind
    FROM touch GROUP BY deal_id
),
touched AS (
    SELECT deal_id, bit_or(1 << (array_position(%(roles)s::text[], role::text) - 1)) AS roles,
           count(*) FILTER (WHERE is_key_person) AS key_touched
    FROM (
        SELECT DISTINCT t.deal_id, c.id, c.role, c.is_key_person
        FROM touch t
        JOIN followups_followup_contacts fc ON fc.followup_id = t.id
        JOIN followups_contact c ON c.id = fc.contact_id
    ) people
    GROUP BY deal_id
),
key_people AS (
    SELECT c.account_id, count(*) AS n FROM followups_contact c
    WHERE c.is_key_person AND c.account_id IN (SELECT account_id FROM deal)
    GROUP BY c.account_id
),
summary AS MATERIALIZED (
    SELECT d.won, d.on_left, d.on_right, d.channel,
           COALESCE((%(kinds)s::text[])[ts.first_kind], '') AS first_kind,
           COALESCE(ts.actions, 0) AS actions,
           COALESCE(tc.roles, 0) AS roles,
           COALESCE(tc.key_touched, 0) AS key_touched,
           CASE WHEN kp.n IS NULL THEN 'no_chain'
                WHEN COALESCE(tc.key_touched, 0) = 0 THEN 'none'
                WHEN tc.key_touched >= kp.n THEN 'all'
                ELSE 'some' END AS coverage
    FROM deal d
    LEFT JOIN touch_summary ts ON ts.deal_id = d.id
    LEFT JOIN touched tc ON tc.deal_id = d.id
    LEFT JOIN key_people kp ON kp.account_id = d.account_id
),
trait(won, on_left, on_right, dimension, code) AS (
    SELECT s.won, s.on_left, s.on_right, 'role', r.code FROM summary s
    JOIN unnest(%(roles)s::text[]) WITH ORDINALITY r(code, bit) ON s.roles & (1 << (r.bit::int - 1)) <> 0
    UNION ALL
    SELECT won, on_left, on_right, 'role', '*key' FROM summary WHERE key_touched > 0
    UNION ALL
    SELECT s.won, s.on_left, s.on_right, 'action', a.code FROM summary s
    JOIN unnest(%(actions)s::text[]) WITH ORDINALITY a(code, bit) ON s.actions & (1 << (a.bit::int - 1)) <> 0
    UNION ALL
    SELECT d.won, d.on_left, d.on_right, 'template', dt.template_id::text
    FROM (SELECT DISTINCT deal_id, template_id FROM touch WHERE template_id IS NOT NULL) dt
    JOIN deal d ON d.id = dt.deal_id
    UNION ALL SELECT won, on_left, on_right, 'channel', channel FROM summary
    UNION ALL SELECT won, on_left, on_right, 'first_touch', first_kind FROM summary
    UNION ALL SELECT won, on_left, on_right, 'combination', actions::text FROM summary
    UNION ALL SELECT won, on_left, on_right, 'coverage', coverage FROM summary
    UNION ALL SELECT won, on_left, on_right, '', '' FROM summary
)
SELECT dimension, code,
       count(*) FILTER (WHERE on_left AND won), count(*) FILTER (WHERE on_left AND NOT won),
       count(*) FILTER (WHERE on_right AND won), count(*) FILTER (WHERE on_right AND NOT won)
FROM trait GROUP BY dimension, code
"""
# The bit of each action kind and decision role in the bit sets above.
_ACTIONS = [action for action in ActionKey.values if action != ActionKey.TOUCH]
_ROLES = list(ContactRole.values)
_KINDS = list(FollowUpKind.values)  # at most 7: the first touch's position is kept in 3 bits


def _combination(bits: str) -> str:
    """A combination's bit set as its action codes, "demo+quote"; "" for touches only."""
    mask = int(bits)
    return "+".join(action for bit, action in enumerate(_ACTIONS) if mask & (1 << bit))


def _picked_sql(deals: QuerySet) -> tuple[str, list]:
    compiler = deals.order_by().values("id").query.get_compiler(connection=connection)
    return compiler.as_sql()


def attribution_count(*, deals: QuerySet, left_region_id: int | None, right_region_id: int | None,
                      window_days: int) -> dict[int, tuple[int, int, dict[tuple[str, str], tuple[int, int]]]]:
    """Per side (0 = left, 1 = right when a right region is given): won, lost and, per
    (dimension, code), the won and lost deals having it. One statement."""
    picked, picked_params = _picked_sql(deals)
    # The FilterSet's SQL uses positional %s; the rest of the statement is written with names,
    # so the names are turned into positions here, in the order they appear.
    named = {"left": left_region_id, "right": right_region_id, "window": window_days,
             "actions": _ACTIONS, "roles": _ROLES, "kinds": _KINDS}
    sql, params = _positional(_COUNT_SQL, named, picked, picked_params)
    with transaction.atomic(), connection.cursor() as cursor:
        # The planner's row guesses for the unrolled traits run into the millions, past the
        # point where PostgreSQL compiles the plan with LLVM: seconds of compiling for a
        # statement that runs in a fraction of one. Off for this statement only.
        # work_mem: the touches of 100,000 deals are hashed in memory rather than spilled to disk.
        cursor.execute("SELECT set_config('jit', 'off', true), set_config('work_mem', '64MB', true)")
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    result: dict[int, tuple[int, int, dict]] = {}
    for side in (0, 1):
        totals = next(((row[2 + 2 * side], row[3 + 2 * side]) for row in rows if row[0] == ""), (0, 0))
        counts = {
            (row[0], _combination(row[1]) if row[0] == COMBINATION else row[1]): (row[2 + 2 * side], row[3 + 2 * side])
            for row in rows if row[0]
        }
        result[side] = (*totals, {key: value for key, value in counts.items() if value != (0, 0)})
    return result


def _positional(template: str, named: dict, picked: str, picked_params: list) -> tuple[str, list]:
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
    for _won, _lost, counts in counted.values():
        traits.update(key for key in counts if key[0] in TRAIT_DIMENSIONS)
    sides = []
    for number, region_id in wanted:
        won, lost, counts = counted.get(number, (0, 0, {}))
        counts = {**{key: (0, 0) for key in traits}, **counts}
        sides.append(Side(region_id=region_id, won=won, lost=lost, comparisons=_comparisons(won, lost, counts)))
    return sides
