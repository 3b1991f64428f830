"""The actuals every method is scored against: the amount won per tenant-local day.

A deal counts once, on the day of its last move to a won stage, if it is won now, at its amount now,
under its owner's team and region today (a rep who moves team takes their won deals along: the
membership period is part of the data version).
"""
import datetime as dt

from ..weeks import tenant_tz

# The users whose deals a scope counts: its members today (a team's; a region's, through their team's
# region, or their own when they have no team).
_SCOPE_OWNERS_SQL = {
    "team": "SELECT m.user_id FROM org_member m WHERE m.team_id = %(scope_id)s",
    "region": "SELECT m.user_id FROM org_member m LEFT JOIN org_team t ON t.id = m.team_id "
              "WHERE COALESCE(t.region_id, m.region_id) = %(scope_id)s",
}


def won_by_day(cursor, scope: str, scope_id, *, since: dt.date, until: dt.date) -> dict[dt.date, float]:
    """Amount won per tenant-local day in [since, until), for the scope (owner's team/region today).

    A deal's last move to won is at or after `since` exactly when it has some move to won at or after
    `since`, and it is then the latest of those: so only the moves to won since `since` are read (a range
    of the (to stage, at) index), not the tenant's whole history. The won stages and the scope's owners
    are read first and passed as values, so the planner sees how many rows each side holds."""
    cursor.execute("SELECT id FROM followups_stage WHERE outcome = 'won'")
    won_stages = [row[0] for row in cursor.fetchall()]
    owners_sql = ""
    params = {"tz": str(tenant_tz()), "won": won_stages, "since": since, "until": until}
    if scope != "company":
        cursor.execute(_SCOPE_OWNERS_SQL[scope], {"scope_id": scope_id})
        params["owners"] = [row[0] for row in cursor.fetchall()]
        owners_sql = "AND o.owner_id = ANY(%(owners)s::bigint[])"
    cursor.execute(
        f"""
        WITH last_won AS (
            SELECT sc.opportunity_id, MAX(sc.at) AS at FROM followups_stagechange sc
            WHERE sc.to_stage_id = ANY(%(won)s::bigint[]) AND sc.at >= (%(since)s::date::timestamp AT TIME ZONE %(tz)s)
            GROUP BY sc.opportunity_id
        )
        SELECT (w.at AT TIME ZONE %(tz)s)::date, SUM(o.amount) FROM last_won w
        JOIN followups_opportunity o ON o.id = w.opportunity_id
        WHERE o.stage_id = ANY(%(won)s::bigint[]) {owners_sql}
          AND w.at < (%(until)s::date::timestamp AT TIME ZONE %(tz)s)
        GROUP BY 1
        """,
        params,
    )
    return {day: float(total) for day, total in cursor.fetchall()}
