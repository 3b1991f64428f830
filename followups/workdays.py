"""The tenant's working-day calendar: weekends, holidays, days worked in lieu, its time zone.

"N working days elapsed since T" counts the working dates d, in the tenant's zone, with
date(T) < d <= today. So a stage entered on Monday morning has 5 working days behind it
on the next Monday and 6 on the Tuesday (with a Saturday/Sunday weekend). The scan needs
the reverse: the instant before which a clock counts as more than N working days old,
so that one indexed comparison in SQL replaces a per-row calendar walk.
"""
import datetime as dt
import zoneinfo
from dataclasses import dataclass, field


@dataclass(frozen=True)
class WorkCalendar:
    tz: zoneinfo.ZoneInfo
    weekend_days: frozenset[int] = frozenset()
    holidays: frozenset[dt.date] = frozenset()
    workdays_in_lieu: frozenset[dt.date] = field(default_factory=frozenset)

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.workdays_in_lieu:
            return True
        if day in self.holidays:
            return False
        return day.weekday() not in self.weekend_days

    def local_date(self, instant: dt.datetime) -> dt.date:
        return instant.astimezone(self.tz).date()

    def working_days_between(self, start: dt.datetime, end: dt.datetime) -> int:
        """Working dates d with local(start) < d <= local(end); 0 when end is not after start."""
        first, last = self.local_date(start), self.local_date(end)
        count, day = 0, first + dt.timedelta(days=1)
        while day <= last:
            count += self.is_working_day(day)
            day += dt.timedelta(days=1)
        return count

    def cutoff_for(self, now: dt.datetime, working_days: int) -> dt.datetime:
        """The instant C such that working_days_between(t, now) > working_days ⇔ t < C."""
        # Walk back from today to the (working_days + 1)-th working date W; t qualifies
        # exactly when its local date is before W, i.e. t < local midnight of W.
        day, seen = self.local_date(now), 0
        for _ in range(3660):  # ten years of holidays cannot hide a working day
            if self.is_working_day(day):
                seen += 1
                if seen == working_days + 1:
                    return dt.datetime.combine(day, dt.time.min, tzinfo=self.tz)
            day -= dt.timedelta(days=1)
        raise ValueError("the calendar has no working days")


def tenant_calendar() -> WorkCalendar:
    """The current tenant's calendar, read from its settings and holidays."""
    from salesflow.org.models import Holiday
    from salesflow.org.selectors import tenant_settings_get

    settings = tenant_settings_get()
    holidays, in_lieu = set(), set()
    for day, is_workday in Holiday.objects.values_list("date", "is_workday"):
        (in_lieu if is_workday else holidays).add(day)
    return WorkCalendar(
        tz=zoneinfo.ZoneInfo(settings.time_zone),
        weekend_days=frozenset(settings.weekend_days or ()),
        holidays=frozenset(holidays),
        workdays_in_lieu=frozenset(in_lieu),
    )
