"""Org membership history: a rebuilt past snapshot rolls up under the team and region of then, a live one
freezes today's; every path that moves a member (or their team) records the period."""
import datetime as dt
from decimal import Decimal

from django.utils import timezone

from followups.models import Opportunity
from followups.tests.factories import at, opportunity_make
from forecasting.models import ForecastSnapshot, SnapshotLine, SnapshotRollup
from forecasting.snapshots import snapshot_take
from django.db import connection

from salesflow.org.history import MEMBERSHIP_RANGES_CTE, membership_as_of
from salesflow.org.models import Member, MembershipPeriod, Region, Team
from salesflow.org.tests.factories import TeamFactory

MOVED_AT = at("2026-03-04T10:00:00+08:00")


def _move(alpha, team):
    """The rep was in their team since January; on 4 March they moved to `team`."""
    MembershipPeriod.objects.filter(user=alpha.rep).update(valid_from=at("2026-01-01T00:00:00+08:00"))
    member = Member.objects.get(user=alpha.rep)
    old_team = member.team
    member.team = team
    member.save()
    MembershipPeriod.objects.filter(user=alpha.rep, team=team).update(valid_from=MOVED_AT)
    return old_team


def _deal(alpha):
    opp = opportunity_make(owner=alpha.rep, stage="negotiation", amount=Decimal("100000"),
                           created_at=at("2026-02-20T10:00:00+08:00"))
    Opportunity.objects.filter(pk=opp.pk).update(expected_close=dt.date(2026, 4, 20))
    return opp


def test_moving_a_member_or_their_team_opens_a_period_and_saving_unchanged_does_not(alpha):
    member = Member.objects.get(user=alpha.rep)
    before = MembershipPeriod.objects.filter(user=alpha.rep).count()
    member.save()
    assert MembershipPeriod.objects.filter(user=alpha.rep).count() == before
    north = Region.objects.get(name="华北区")
    team = TeamFactory(name="北京三组", region=north)
    member.team = team
    member.save()
    latest = MembershipPeriod.objects.filter(user=alpha.rep).latest("valid_from", "id")
    assert (latest.team_id, latest.region_id) == (team.pk, north.pk)
    east = Region.objects.get(name="华东区")
    team.region = east
    team.save()
    latest = MembershipPeriod.objects.filter(user=alpha.rep).latest("valid_from", "id")
    assert (latest.team_id, latest.region_id) == (team.pk, east.pk)


def test_membership_as_of_answers_then_and_now(alpha):
    new_team = TeamFactory(name="北京三组", region=Region.objects.get(name="华北区"))
    old_team = _move(alpha, new_team)
    assert membership_as_of(MOVED_AT - dt.timedelta(seconds=1), [alpha.rep.pk])[alpha.rep.pk] == (
        old_team.pk, old_team.region_id)
    assert membership_as_of(MOVED_AT, [alpha.rep.pk])[alpha.rep.pk] == (new_team.pk, new_team.region_id)
    # Before anything was recorded, the first period known stands in.
    assert membership_as_of(at("2020-01-01T00:00:00+08:00"), [alpha.rep.pk])[alpha.rep.pk][0] == old_team.pk


def test_a_rebuilt_past_week_rolls_up_under_the_team_and_region_of_then(alpha):
    opp = _deal(alpha)
    new_team = TeamFactory(name="北京三组", region=Region.objects.get(name="华北区"))
    old_team = _move(alpha, new_team)
    assert old_team.region_id != new_team.region_id

    snapshot_take(now=at("2026-03-03T12:00:00+08:00"), rebuilt=True)  # Monday 2 March: before the move
    snapshot_take(now=at("2026-03-10T12:00:00+08:00"), rebuilt=True)  # Monday 9 March: after it
    before, after = ForecastSnapshot.objects.order_by("week")
    line_before = SnapshotLine.objects.get(snapshot=before, opportunity_id=opp.pk)
    line_after = SnapshotLine.objects.get(snapshot=after, opportunity_id=opp.pk)
    assert (line_before.team_id, line_before.region_id) == (old_team.pk, old_team.region_id)
    assert (line_after.team_id, line_after.region_id) == (new_team.pk, new_team.region_id)
    assert SnapshotRollup.objects.filter(snapshot=before, level="team", key=old_team.pk).exists()
    assert not SnapshotRollup.objects.filter(snapshot=before, level="team", key=new_team.pk).exists()
    assert SnapshotRollup.objects.filter(snapshot=after, level="region", key=new_team.region_id).exists()


def test_a_live_snapshot_freezes_todays_team(alpha):
    opp = _deal(alpha)
    new_team = TeamFactory(name="北京三组", region=Region.objects.get(name="华北区"))
    _move(alpha, new_team)
    snapshot_take(now=timezone.now())
    line = SnapshotLine.objects.get(opportunity_id=opp.pk)
    assert (line.team_id, line.region_id) == (new_team.pk, new_team.region_id)


def test_the_ranges_form_answers_as_the_as_of_lookup_at_every_instant(alpha):
    TeamFactory(name="北京三组", region=Region.objects.get(name="华北区"))
    _move(alpha, Team.objects.get(name="北京三组"))
    for instant in ("2020-01-01T00:00:00+08:00", "2026-03-04T09:59:59+08:00", "2026-03-04T10:00:00+08:00",
                    "2030-01-01T00:00:00+08:00"):
        with connection.cursor() as cursor:
            cursor.execute(f"WITH {MEMBERSHIP_RANGES_CTE} SELECT user_id, team_id, region_id FROM org_ranges r "
                           "WHERE (r.from_at IS NULL OR r.from_at <= %(t)s) AND (r.to_at IS NULL OR %(t)s < r.to_at)",
                           {"t": at(instant)})
            ranges = {user_id: (team_id, region_id) for user_id, team_id, region_id in cursor.fetchall()}
        assert ranges == membership_as_of(at(instant)), instant
