import datetime as dt
from dataclasses import dataclass

from django.contrib.postgres.aggregates import ArrayAgg
from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet, Value
from django.utils import timezone

from salesflow.memo import memo_forget, memo_get, remembered

from .models import Member, Region, Role, TenantSettings, available_on, hired_recently
from .scoping import member_for, visible_user_ids

SETTINGS_CACHE_KEY = "org:tenant-settings"


def tenant_settings_get() -> TenantSettings:
    """The current tenant's settings: remembered in this process for a few seconds, cached per
    schema in Redis, and read from the database when Redis cannot answer."""
    return remembered(SETTINGS_CACHE_KEY, lambda: TenantSettings.objects.get(pk=1), shared_seconds=300)


def display_name(user) -> str:
    """How a person is named to others: their full name, else (no member row) their username."""
    member = member_for(user)
    return member.full_name if member is not None and member.full_name else user.get_username()


def member_list(*, user) -> QuerySet[Member]:
    """Members `user` may see, with their team and region loaded, `is_new_hire` and the names of
    the regions each directs (`directed_region_names`, empty for all but regional directors)."""
    cutoff = timezone.localdate() - dt.timedelta(days=tenant_settings_get().new_hire_days)
    members = Member.objects.select_related("user", "team", "region", "team__manager").annotate(
        is_new_hire=ExpressionWrapper(Q(hire_date__gte=cutoff), output_field=BooleanField()),
        directed_region_names=ArrayAgg(
            "user__directed_regions__name", distinct=True, default=Value([]), order_by="user__directed_regions__name",
            filter=Q(user__directed_regions__isnull=False),
        ),
    )
    visible = visible_user_ids(user)
    if visible is not None:
        members = members.filter(user_id__in=visible)
    return members.order_by("team__name", "full_name")


def directed_region_names(user) -> list[str]:
    """Names of the regions `user` directs (not their sub-regions): what makes a manager a regional director."""
    return list(Region.objects.filter(director=user).order_by("name").values_list("name", flat=True))


def member_get_for_user(*, user, member_id: int) -> Member | None:
    """The member with that id if `user` may see them, else None (missing and hidden alike)."""
    return member_list(user=user).filter(pk=member_id).first()


@dataclass(frozen=True, slots=True)
class RepProfile:
    """What routing needs to know of one rep, as plain values."""

    user_id: int
    username: str
    full_name: str
    team_id: int | None
    team_region_id: int | None
    region_id: int | None
    region_names: tuple[str, ...]  # the rep's region and the region it belongs to
    industries: tuple[str, ...]
    product_lines: tuple[str, ...]
    years_experience: int
    hire_date: dt.date | None
    capacity: int
    availability: str
    away_from: dt.date | None
    away_until: dt.date | None

    def is_available_on(self, day: dt.date) -> bool:
        return available_on(day, availability=self.availability, away_from=self.away_from, away_until=self.away_until)

    def is_new_hire(self, *, today: dt.date, new_hire_days: int) -> bool:
        return hired_recently(self.hire_date, today=today, new_hire_days=new_hire_days)


ROSTER_MEMO_KEY = "org:rep-roster"


def rep_roster() -> list[RepProfile]:
    """Every rep's routing profile, ordered by user id. Intake reads it for each lead, so each
    process remembers it for a few seconds; the services that change reps call `rep_roster_forget`."""
    return memo_get(ROSTER_MEMO_KEY, _rep_roster_load)


def rep_roster_forget() -> None:
    memo_forget(ROSTER_MEMO_KEY)


def _rep_roster_load() -> list[RepProfile]:
    rows = Member.objects.filter(role=Role.REP).order_by("user_id").values_list(
        "user_id", "user__username", "full_name", "team_id", "team__region_id", "region_id", "region__name",
        "region__parent__name", "industries", "product_lines", "years_experience", "hire_date", "capacity",
        "availability", "away_from", "away_until",
    )
    return [
        RepProfile(user_id, username, full_name, team_id, team_region_id, region_id,
                   tuple(name for name in (region_name, parent_name) if name), tuple(industries), tuple(product_lines),
                   *rest)
        for user_id, username, full_name, team_id, team_region_id, region_id, region_name, parent_name,
        industries, product_lines, *rest in rows
    ]
