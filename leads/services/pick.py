"""Choosing among a pool's reps and taking the slot in one statement, whatever the strategy.

The pool is a set of rows (leads_poolseat, written once per roster version and basis by
leads.services.roster); each rep's open count, capacity and close rate are one row
(leads_repload). One statement walks an index in the strategy's order to the first few reps
with a free slot, takes a slot of the first with the guarded UPDATE (and, for round robin, locks
the rule row and moves its cursor), and lists the reps at capacity from a partial index: the
work per lead does not grow with the pool, and nothing of the pool travels with the statement.
"""
from dataclasses import dataclass
from typing import NamedTuple

from django.db import connection

from salesflow.org.models import Member

from ..models import Lead, PoolSeat, RepLoad, RoutingDecision, RoutingRule, Strategy

# The ids of a new lead and of its routing decision, taken from their sequences before they are
# inserted: the lead is then written with its decision, notification and audit entry, all of which
# name these ids, in one statement (leads.services.store).
RESERVE_IDS = (f"nextval('{Lead._meta.db_table}_id_seq'::regclass), "
               f"nextval('{RoutingDecision._meta.db_table}_id_seq'::regclass)")

# Free reps in the strategy's order; each branch is one index scan (see the RepLoad and PoolSeat indexes)
# and, for each row it yields, one lookup by key in the other table. The lookups are lateral
# subqueries that cannot be pulled up (OFFSET 0), so they are joined only by a nested loop: as
# plain joins the prepared plan merged or hashed the seats with the whole load table, work that
# grew with the tenant's reps and with the dead rows every taken slot leaves in it.
_FREE = {
    # Next after the cursor, then wrapping round: two scans of the pool's (pool, user_id) key.
    Strategy.ROUND_ROBIN: """
        (SELECT 0 AS lap, s.user_id FROM {seat} s CROSS JOIN LATERAL ({has_slot}) AS l
          WHERE s.pool = %(pool)s AND s.user_id > COALESCE((SELECT last FROM turn), -1)
            AND s.user_id <> ALL(%(exclude)s::bigint[])
          ORDER BY s.user_id LIMIT {limit})
        UNION ALL
        (SELECT 1, s.user_id FROM {seat} s CROSS JOIN LATERAL ({has_slot}) AS l
          WHERE s.pool = %(pool)s AND s.user_id <= (SELECT last FROM turn)
            AND s.user_id <> ALL(%(exclude)s::bigint[])
          ORDER BY s.user_id LIMIT {limit})""",
    Strategy.LEAST_LOADED: """
        SELECT row_number() OVER (ORDER BY (l.open_count::float8 / GREATEST(l.capacity, 1)), l.open_count, l.user_id),
               l.user_id
          FROM {load} l CROSS JOIN LATERAL ({in_pool}) AS s
         WHERE l.open_count < l.capacity AND l.user_id <> ALL(%(exclude)s::bigint[])
         ORDER BY (l.open_count::float8 / GREATEST(l.capacity, 1)), l.open_count, l.user_id LIMIT {limit}""",
    Strategy.TOP_PERFORMER: """
        SELECT row_number() OVER (ORDER BY l.rank DESC, l.open_count, l.user_id), l.user_id
          FROM {load} l CROSS JOIN LATERAL ({in_pool}) AS s
         WHERE l.open_count < l.capacity AND l.user_id <> ALL(%(exclude)s::bigint[])
         ORDER BY l.rank DESC, l.open_count, l.user_id LIMIT {limit}""",
}

_HAS_SLOT = "SELECT FROM {load} l WHERE l.user_id = s.user_id AND l.open_count < l.capacity OFFSET 0"
_IN_POOL = "SELECT FROM {seat} s WHERE s.pool = %(pool)s AND s.user_id = l.user_id OFFSET 0"

_PICK = """
WITH turn AS MATERIALIZED (
    SELECT rr_last_user_id AS last FROM {rule} WHERE id = %(rule)s AND %(round_robin)s FOR UPDATE
), free AS MATERIALIZED (
    SELECT f.lap, f.user_id, l.open_count, l.capacity, l.rank FROM ({free}) AS f(lap, user_id)
      CROSS JOIN LATERAL (SELECT l.open_count, l.capacity, l.rank FROM {load} l WHERE l.user_id = f.user_id OFFSET 0) AS l
     ORDER BY f.lap, f.user_id LIMIT {limit}
), first AS (
    SELECT user_id FROM free ORDER BY lap, user_id LIMIT 1
), slot AS (
    UPDATE {load} l SET open_count = l.open_count + 1, capacity = m.capacity
      FROM first, {member} m
     WHERE l.user_id = first.user_id AND m.user_id = first.user_id AND l.open_count < m.capacity
    RETURNING l.user_id
), moved AS (
    UPDATE {rule} r SET rr_last_user_id = slot.user_id FROM slot WHERE r.id = %(rule)s AND %(round_robin)s
)
SELECT 'taken'::text, slot.user_id::bigint, {reserve_ids}, 0.0::float8 FROM slot
UNION ALL
SELECT 'free', user_id, open_count, capacity, rank FROM (SELECT * FROM free ORDER BY lap, user_id) AS ordered
UNION ALL
SELECT 'full', l.user_id, l.open_count, l.capacity, l.rank
  FROM {load} l CROSS JOIN LATERAL ({in_pool}) AS s
 WHERE l.open_count >= l.capacity
"""


@dataclass(frozen=True)
class Row:
    user_id: int
    open: int
    capacity: int
    rank: float


@dataclass
class Picked:
    taken: int | None  # the rep whose slot this statement took
    ids: tuple[int, int] | None  # reserved with the slot: the new lead's id and its decision's (RESERVE_IDS)
    free: list[Row]  # reps with a free slot when the statement began, most preferred first
    full: list[Row]  # reps of the pool at capacity


class PickRequest(NamedTuple):
    strategy: str
    pool: int
    rule_id: int


# How many free reps the statement returns (the first is taken; the others name who came next).
# Written into the statement, not a parameter: with an unknown limit the prepared statement's
# generic plan is estimated dearer than a custom one, and PostgreSQL then plans it at every intake.
FREE_LIMIT = 3


def _sql(strategy: str) -> str:
    tables = {"seat": PoolSeat._meta.db_table, "load": RepLoad._meta.db_table, "rule": RoutingRule._meta.db_table,
              "member": Member._meta.db_table}
    tables.update(has_slot=_HAS_SLOT.format(**tables), in_pool=_IN_POOL.format(**tables), reserve_ids=RESERVE_IDS,
                  limit=FREE_LIMIT)
    # (lap, user_id) is the strategy's order: round robin's two laps by user id; the others
    # number their rows by their own ORDER BY.
    sql = _PICK.format(free=_FREE[strategy].format(**tables), **tables)
    arguments = {"pool": "given_pool", "rule": "given_rule", "exclude": "given_exclude",
                 "round_robin": "true" if strategy == Strategy.ROUND_ROBIN else "false"}
    return sql % arguments


# The pick is a PL/pgSQL function (installed by migration leads 0020) so that the intake's opening
# statement can make it too (leads.services.claim): its plans are kept for the session as a
# prepared statement's are. Its result columns are named apart from every column the statements
# name (out_*), which PL/pgSQL would otherwise refuse as ambiguous.
PICK_FUNCTION_SQL = f"""
CREATE OR REPLACE FUNCTION leads_pool_pick(given_strategy text, given_pool bigint, given_rule bigint,
                                           given_exclude bigint[])
RETURNS TABLE (out_kind text, out_user bigint, out_first bigint, out_second bigint, out_rank float8)
LANGUAGE plpgsql VOLATILE AS $pick$
BEGIN
    IF given_strategy = '{Strategy.ROUND_ROBIN.value}' THEN
        RETURN QUERY{_sql(Strategy.ROUND_ROBIN)};
    ELSIF given_strategy = '{Strategy.LEAST_LOADED.value}' THEN
        RETURN QUERY{_sql(Strategy.LEAST_LOADED)};
    ELSIF given_strategy = '{Strategy.TOP_PERFORMER.value}' THEN
        RETURN QUERY{_sql(Strategy.TOP_PERFORMER)};
    ELSE
        RAISE EXCEPTION 'leads_pool_pick: no pick for strategy %', given_strategy;
    END IF;
END
$pick$"""

DROP_PICK_FUNCTION_SQL = "DROP FUNCTION IF EXISTS leads_pool_pick(text, bigint, bigint, bigint[])"


def picked_from(rows) -> Picked:
    """A pick's rows (kind, user_id, first, second, rank) read into a Picked."""
    picked = Picked(taken=None, ids=None, free=[], full=[])
    for kind, user_id, first, second, rank in rows:
        if kind == "taken":  # its two middle columns carry the reserved ids (RESERVE_IDS), not a load
            picked.taken, picked.ids = user_id, (first, second)
        else:
            getattr(picked, kind).append(Row(user_id, first, second, rank))
    return picked


def pool_pick(strategy: str, *, pool: int, rule_id: int, exclude: list[int] = ()) -> Picked:
    """Take a slot of the strategy's first free rep of `pool`, in one statement.

    For round robin the rule row is locked (until commit: it serialises the rule's intakes) and
    its cursor moves to the rep whose slot was taken, and the ids of the lead and its decision are
    reserved (`Picked.ids`). When the first free rep filled up in the meantime nobody is taken: call
    again with them in `exclude`. The intake's first pick is made by its opening statement instead
    (leads.services.claim).
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM leads_pool_pick(%s::text, %s::bigint, %s::bigint, %s::bigint[])",
                       [strategy, pool, rule_id, list(exclude)])
        return picked_from(cursor.fetchall())
