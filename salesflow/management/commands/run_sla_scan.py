import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime
from django_tenants.utils import tenant_context

from followups.services import sla_scan
from salesflow.tenancy.selectors import tenants_for_command


def _clock(value: str | None) -> dt.datetime | None:
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


class Command(BaseCommand):
    help = "The SLA scan the beat schedule runs: 48-hour alerts, traffic lights, stagnation, 72-hour pool release."

    def add_arguments(self, parser):
        parser.add_argument("--schema", help="one tenant (default: every tenant)")
        parser.add_argument("--now", help="the scan's clock, ISO-8601 with offset (default: now)")

    def handle(self, *args, **opts):
        now = _clock(opts["now"])
        for tenant in tenants_for_command(opts["schema"]):
            with tenant_context(tenant):
                result = sla_scan(now=now)
            self.stdout.write(result.summary_line())
