"""Choosing among a pool's available reps in one statement, whatever the strategy.

The pool (reps qualified and available, from leads.services.roster) goes to PostgreSQL as an
array; one statement joins it to each rep's capacity and open count, returns the few
first-preferred reps with a free slot in the strategy's order and every rep at capacity (whom
the routing story must name). No rep is looked at in Python.
"""
from dataclasses import dataclass

from django.db import connection

from salesflow.org.models import Member

from ..models import RepLoad, Strategy

ORDERS = {
    # Next after the cursor, wrapping round: the rule's row lock makes the cursor strict.
    Strategy.ROUND_ROBIN: "(c.user_id <= COALESCE(%(last)s, 9223372036854775807)), c.user_id",
    Strategy.LEAST_LOADED: "c.open::float8 / GREATEST(c.capacity, 1), c.open, c.user_id",
    Strategy.TOP_PERFORMER: "c.rank DESC, c.open, c.user_id",
}


@dataclass(frozen=True)
class Row:
    user_id: int
    open: int
    capacity: int
    rank: float
    free: bool


def array_literal(values) -> str:
    """A PostgreSQL array literal: made once per pool and sent as one text parameter."""
    return "{" + ",".join(repr(value) for value in values) + "}"


def pool_pick(strategy: str, *, ids: str, ranks: str | None = None, last: int | None = None,
              exclude: list[int] = (), limit: int = 3) -> tuple[list[Row], list[Row]]:
    """(up to `limit` reps with a free slot, most preferred first; every rep at capacity).

    `ids` and `ranks` are array literals (`array_literal`) of the pool's reps and, for the top
    performer, their close rates in the same order.
    """
    member, load = Member._meta.db_table, RepLoad._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""WITH c AS (
                    SELECT p.user_id, COALESCE(p.rank, 0) AS rank, m.capacity, COALESCE(l.open_count, 0) AS open
                    FROM unnest(%(ids)s::bigint[], %(ranks)s::float8[]) AS p(user_id, rank)
                    JOIN {member} m ON m.user_id = p.user_id
                    LEFT JOIN {load} l ON l.user_id = p.user_id
                    WHERE p.user_id <> ALL(%(exclude)s::bigint[])
                ), free AS (
                    SELECT c.*, row_number() OVER (ORDER BY {ORDERS[strategy]}) AS place
                    FROM c WHERE c.open < c.capacity ORDER BY {ORDERS[strategy]} LIMIT %(limit)s
                )
                SELECT user_id, open, capacity, rank, true, place FROM free
                UNION ALL
                SELECT user_id, open, capacity, rank, false, 0 FROM c WHERE c.open >= c.capacity
                ORDER BY 5 DESC, 6, 1""",
            {"ids": ids, "ranks": ranks, "last": last, "exclude": list(exclude), "limit": limit},
        )
        rows = [Row(*row[:5]) for row in cursor.fetchall()]
    return [row for row in rows if row.free], [row for row in rows if not row.free]
