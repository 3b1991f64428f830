import datetime as dt
import zoneinfo

import pytest

from followups.workdays import WorkCalendar

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
# 2026-10-01..07 National Day (Thu 1st … Wed 7th), Saturday 10th worked in lieu.
HOLIDAYS = frozenset(dt.date(2026, 10, d) for d in range(1, 8))
CAL = WorkCalendar(tz=SHANGHAI, weekend_days=frozenset({5, 6}), holidays=HOLIDAYS,
                   workdays_in_lieu=frozenset({dt.date(2026, 10, 10)}))


def local(y, m, d, h=9, tz=SHANGHAI):
    return dt.datetime(y, m, d, h, tzinfo=tz)


def test_a_plain_week_counts_only_weekdays():
    # Monday 2 Nov → next Monday 9 Nov: Tue, Wed, Thu, Fri, Mon.
    assert CAL.working_days_between(local(2026, 11, 2), local(2026, 11, 9)) == 5
    assert CAL.working_days_between(local(2026, 11, 2), local(2026, 11, 10)) == 6


def test_holidays_do_not_count_and_a_weekend_worked_in_lieu_does():
    # Wed 30 Sep → Mon 12 Oct: 1–7 Oct off, 8 Thu, 9 Fri, 10 Sat (in lieu), 12 Mon.
    assert CAL.working_days_between(local(2026, 9, 30), local(2026, 10, 12)) == 4


def test_days_are_counted_in_the_tenants_zone_not_utc():
    # 23:30 UTC on Friday is already Saturday in Shanghai.
    friday_night_utc = dt.datetime(2026, 11, 6, 23, 30, tzinfo=dt.UTC)
    monday = local(2026, 11, 9)
    assert CAL.local_date(friday_night_utc) == dt.date(2026, 11, 7)
    assert CAL.working_days_between(friday_night_utc, monday) == 1
    in_utc = WorkCalendar(tz=dt.UTC, weekend_days=frozenset({5, 6}))
    assert in_utc.working_days_between(friday_night_utc, monday) == 1
    assert in_utc.working_days_between(friday_night_utc - dt.timedelta(hours=1), dt.datetime(2026, 11, 9, 1, tzinfo=dt.UTC)) == 1


@pytest.mark.parametrize("days", [1, 5, 7])
def test_the_cutoff_agrees_with_counting_day_by_day(days):
    # Every hour across the National Day fortnight: t < cutoff exactly when more than `days` working days passed.
    for now_offset in range(0, 24 * 20, 7):
        now = local(2026, 9, 25, 0) + dt.timedelta(hours=now_offset)
        cutoff = CAL.cutoff_for(now, days)
        for back in range(0, 24 * 30, 5):
            t = now - dt.timedelta(hours=back)
            assert (t < cutoff) == (CAL.working_days_between(t, now) > days), (now, t)


def test_a_calendar_without_working_days_is_an_error():
    with pytest.raises(ValueError):
        WorkCalendar(tz=SHANGHAI, weekend_days=frozenset(range(7))).cutoff_for(local(2026, 1, 5), 5)
