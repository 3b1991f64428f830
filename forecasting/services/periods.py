"""Target periods (month, quarter) and the share of one expected by a given day.

The expected share is linear over the tenant's **working days** (its weekend days,
holidays and days worked in lieu, `followups.workdays`): a day counts once it has begun,
so on the first working day of a 20-working-day month 1/20 is expected, and on its last
working day all of it. A period with no working day at all falls back to calendar days.
"""
import datetime as dt
from dataclasses import dataclass

from followups.workdays import WorkCalendar

from ..models_targets import PeriodKind


@dataclass(frozen=True)
class Period:
    kind: str
    start: dt.date
    end: dt.date  # exclusive

    @property
    def last_day(self) -> dt.date:
        return self.end - dt.timedelta(days=1)

    @property
    def label(self) -> str:
        if self.kind == PeriodKind.QUARTER:
            return f"{self.start.year} Q{(self.start.month - 1) // 3 + 1}"
        return f"{self.start:%Y-%m}"

    def bounds(self, tz) -> tuple[dt.datetime, dt.datetime]:
        """The period as instants in the tenant's zone: [local midnight of start, of end)."""
        return (dt.datetime.combine(self.start, dt.time.min, tzinfo=tz),
                dt.datetime.combine(self.end, dt.time.min, tzinfo=tz))

    def previous(self) -> "Period":
        return period_of(self.kind, self.start - dt.timedelta(days=1))

    def next(self) -> "Period":
        return period_of(self.kind, self.end)


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def period_of(kind: str, day: dt.date) -> Period:
    """The month or quarter holding `day`."""
    if kind == PeriodKind.QUARTER:
        start = dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
        return Period(kind, start, _add_months(start, 3))
    if kind != PeriodKind.MONTH:
        raise ValueError(f"unknown period kind {kind!r}")
    start = day.replace(day=1)
    return Period(kind, start, _add_months(start, 1))


def expected_share(period: Period, *, today: dt.date, calendar: WorkCalendar) -> float:
    """The share of the period's target expected by the end of `today` (0…1)."""
    if today < period.start:
        return 0.0
    if today >= period.last_day:
        return 1.0
    days = [period.start + dt.timedelta(days=n) for n in range((period.end - period.start).days)]
    working = [d for d in days if calendar.is_working_day(d)]
    if not working:
        return sum(1 for d in days if d <= today) / len(days)
    return sum(1 for d in working if d <= today) / len(working)
