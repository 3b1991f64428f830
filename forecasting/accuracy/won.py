"""The actuals every method is scored against: the amount won per tenant-local day.

A deal counts once, on the day of its last move to a won stage, if it is won now, at its amount now,
under its owner's team and region today (a rep who moves team takes their won deals along: the
membership period is part of the data version).
"""
import datetime as dt

from ..weeks import tenant_tz
from .snapshot_sums import scope_sql


def won_by_day(cursor, scope: str, scope_id) -> dict[dt.date, float]:
    """Amount won per tenant-local day, for the scope (owner's team/region today)."""
    cursor.execute(
        f"""
        WITH won AS (
            SELECT DISTINCT ON (sc.opportunity_id) sc.opportunity_id, sc.at FROM followups_stagechange sc
            JOIN followups_stage s ON s.id = sc.to_stage_id AND s.outcome = 'won'
            ORDER BY sc.opportunity_id, sc.at DESC
        ), owners AS (
            SELECT o.id, o.amount, m.team_id, COALESCE(t.region_id, m.region_id) AS region_id
            FROM followups_opportunity o JOIN followups_stage s ON s.id = o.stage_id AND s.outcome = 'won'
            LEFT JOIN org_member m ON m.user_id = o.owner_id LEFT JOIN org_team t ON t.id = m.team_id
        )
        SELECT (w.at AT TIME ZONE %(tz)s)::date, SUM(o.amount) FROM won w JOIN owners o ON o.id = w.opportunity_id
        WHERE {scope_sql(scope)} GROUP BY 1
        """,
        {"tz": str(tenant_tz()), "scope_id": scope_id},
    )
    return {day: float(total) for day, total in cursor.fetchall()}
