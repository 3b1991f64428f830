"""Weeks and months of the tenant's calendar: forecasts are bucketed by Monday (ISO weeks)."""
import datetime as dt
import zoneinfo

from salesflow.org.selectors import tenant_settings_get


def tenant_tz() -> zoneinfo.ZoneInfo:
    return tenant_settings_get().tzinfo


def week_start(moment: dt.datetime, tz) -> dt.date:
    day = moment.astimezone(tz).date()
    return day - dt.timedelta(days=day.weekday())


def monday_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def iso_label(monday: dt.date) -> str:
    iso = monday.isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
