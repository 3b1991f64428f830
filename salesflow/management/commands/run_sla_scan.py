from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import tenant_context

from followups.services import sla_scan
from salesflow.management.clock import clock_option
from salesflow.tenancy.selectors import tenants_for_command


class Command(BaseCommand):
    help = "The SLA scan the beat schedule runs: 48-hour alerts, traffic lights, stagnation, 72-hour pool release."

    def add_arguments(self, parser):
        parser.add_argument("--schema", help="one tenant (default: every tenant)")
        parser.add_argument("--now", help="the scan's clock, ISO-8601 with offset (default: now)")

    def handle(self, *args, **opts):
        now = clock_option(opts["now"])
        for tenant in tenants_for_command(opts["schema"]):
            with tenant_context(tenant):
                result = sla_scan(now=now)
            self.stdout.write(result.summary_line())
