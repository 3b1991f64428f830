"""The `--now` option of the commands that run on a clock (SLA scan, weekly reports)."""
import datetime as dt

from django.core.management.base import CommandError
from django.utils.dateparse import parse_datetime


def clock_option(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    parsed = parse_datetime(value)
    if parsed is None:
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            raise CommandError(f"--now {value!r} is not an ISO-8601 date-time") from None
    if parsed.tzinfo is None:
        raise CommandError("--now needs a UTC offset (e.g. 2026-03-02T09:00:00+08:00)")
    return parsed
