"""Org membership history: who was in which team and region from when.

Every save of a Member, or of a Team (whose region its members roll up to), compares the member's
team and region with their latest `MembershipPeriod` and opens a new period when it differs. Signals,
not a service call, because a member's team changes through the roster import, the admin and the
services alike. Existing members got one period "since ever" when the table was added.

The as-of lookup is one SQL fragment, `MEMBERSHIP_AS_OF_CTE` (a CTE named `org_at`, parameter
`%(t)s`): for each user, the period in force at t; before their first period, that first period;
without any period, the member row as it is now. `membership_as_of` runs it from Python. The forecast
snapshot statements join it instead of `org_member`, so a rebuilt past week rolls up under the teams
and regions of that week and a live snapshot (t = now) freezes the current ones.
"""
import datetime as dt

from django.db import connection
from django.db.models.signals import post_save
from django.utils import timezone

from .models import Member, MembershipPeriod, Team

SINCE_EVER = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)

MEMBERSHIP_AS_OF_CTE = """
org_at AS (
    SELECT DISTINCT ON (user_id) user_id, team_id, region_id FROM (
        SELECT user_id, team_id, region_id, 0 AS pref, -EXTRACT(EPOCH FROM valid_from) AS ord, -id AS tie
        FROM org_membershipperiod WHERE valid_from <= %(t)s
        UNION ALL
        SELECT user_id, team_id, region_id, 1, EXTRACT(EPOCH FROM valid_from), id
        FROM org_membershipperiod WHERE valid_from > %(t)s
        UNION ALL
        SELECT m.user_id, m.team_id, COALESCE(tm.region_id, m.region_id), 2, 0, 0
        FROM org_member m LEFT JOIN org_team tm ON tm.id = m.team_id
    ) candidates
    ORDER BY user_id, pref, ord, tie
)"""


# The same answer as ranges, for a statement that looks up many instants at once (a set-based rebuild of
# many weeks): one row per user and period, [from_at, to_at) with the first period open to the past and
# the last to the future; users without any period get their member row as one unbounded range. Join:
#   LEFT JOIN org_ranges r ON r.user_id = <owner> AND (r.from_at IS NULL OR r.from_at <= <t>)
#                           AND (r.to_at IS NULL OR <t> < r.to_at)
MEMBERSHIP_RANGES_CTE = """
org_ranges AS (
    SELECT user_id, team_id, region_id,
        CASE WHEN ROW_NUMBER() OVER w = 1 THEN NULL ELSE valid_from END AS from_at,
        LEAD(valid_from) OVER w AS to_at
    FROM org_membershipperiod
    WINDOW w AS (PARTITION BY user_id ORDER BY valid_from, id)
    UNION ALL
    SELECT m.user_id, m.team_id, COALESCE(tm.region_id, m.region_id), NULL, NULL
    FROM org_member m LEFT JOIN org_team tm ON tm.id = m.team_id
    WHERE NOT EXISTS (SELECT 1 FROM org_membershipperiod p WHERE p.user_id = m.user_id)
)"""


def membership_as_of(at: dt.datetime, user_ids=None) -> dict[int, tuple[int | None, int | None]]:
    """{user id: (team id, region id)} as of `at` (every user with a member row or a period, or `user_ids`)."""
    sql = f"WITH {MEMBERSHIP_AS_OF_CTE} SELECT user_id, team_id, region_id FROM org_at"
    params = {"t": at}
    if user_ids is not None:
        sql += " WHERE user_id = ANY(%(ids)s)"
        params["ids"] = list(user_ids)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {user_id: (team_id, region_id) for user_id, team_id, region_id in cursor.fetchall()}


def _resolved(member: Member) -> tuple[int | None, int | None]:
    if member.team_id is None:
        return None, member.region_id
    region_id = Team.objects.filter(pk=member.team_id).values_list("region_id", flat=True).first()
    return member.team_id, region_id if region_id is not None else member.region_id


def membership_record(member: Member, *, at: dt.datetime | None = None) -> MembershipPeriod | None:
    """Open a period for `member` when their team or region differs from their latest one."""
    team_id, region_id = _resolved(member)
    latest = MembershipPeriod.objects.filter(user_id=member.user_id).order_by("-valid_from", "-id").first()
    if latest is not None and (latest.team_id, latest.region_id) == (team_id, region_id):
        return None
    return MembershipPeriod.objects.create(user_id=member.user_id, team_id=team_id, region_id=region_id,
                                           valid_from=at or timezone.now())


def _member_saved(sender, instance: Member, raw=False, **kwargs):
    if not raw:
        membership_record(instance)


def _team_saved(sender, instance: Team, created=False, raw=False, **kwargs):
    if raw or created:
        return
    for member in Member.objects.filter(team_id=instance.pk):
        membership_record(member)


def connect() -> None:
    post_save.connect(_member_saved, sender=Member, dispatch_uid="org_membership_member")
    post_save.connect(_team_saved, sender=Team, dispatch_uid="org_membership_team")
