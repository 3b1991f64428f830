"""The periods health is measured over: calendar months and a rolling 30 days, in the tenant's zone."""
import datetime as dt
import zoneinfo
from dataclasses import dataclass

ROLLING_DAYS = 30
TREND_MONTHS = 6
ROLLING_KEY = "30d"


@dataclass(frozen=True)
class Period:
    key: str  # "30d" or "YYYY-MM"
    start: dt.datetime
    end: dt.datetime  # exclusive
    is_month: bool

    @property
    def month(self) -> dt.date | None:
        return self.start.date().replace(day=1) if self.is_month else None


def rolling(now: dt.datetime, *, days: int = ROLLING_DAYS) -> Period:
    return Period(key=ROLLING_KEY, start=now - dt.timedelta(days=days), end=now, is_month=False)


def month(year: int, number: int, *, tz: zoneinfo.ZoneInfo, now: dt.datetime) -> Period:
    start = dt.datetime(year, number, 1, tzinfo=tz)
    following = dt.datetime(year + (number == 12), number % 12 + 1, 1, tzinfo=tz)
    return Period(key=f"{year:04d}-{number:02d}", start=start, end=min(following, max(now, start)), is_month=True)


def recent_months(now: dt.datetime, *, tz: zoneinfo.ZoneInfo, count: int = TREND_MONTHS) -> list[Period]:
    """The last `count` calendar months, oldest first, the current one up to `now`."""
    local = now.astimezone(tz)
    year, number = local.year, local.month
    found = []
    for _ in range(count):
        found.append(month(year, number, tz=tz, now=now))
        year, number = (year - 1, 12) if number == 1 else (year, number - 1)
    return found[::-1]


def period_for(key: str, *, now: dt.datetime, tz: zoneinfo.ZoneInfo) -> Period:
    """The period a key names (one of `choices`); the rolling 30 days for anything else."""
    for period in recent_months(now, tz=tz):
        if period.key == key:
            return period
    return rolling(now)
