from django.core.management.base import BaseCommand
from django_tenants.utils import tenant_context

from salesflow.management.clock import clock_option
from salesflow.tenancy.selectors import tenants_for_command
from salesflow.weekly_reports import summary_line, weekly_reports_run


class Command(BaseCommand):
    help = ("Sends the weekly reports due at the clock (Monday 08:00 health report, Friday 17:00 heatmap, "
            "tenant time); the same code beat runs hourly. A second run at the same clock sends none.")

    def add_arguments(self, parser):
        parser.add_argument("--schema", help="one tenant (default: every tenant)")
        parser.add_argument("--now", help="the clock, ISO-8601 with offset (default: now)")

    def handle(self, *args, **opts):
        now = clock_option(opts["now"])
        for tenant in tenants_for_command(opts["schema"]):
            with tenant_context(tenant):
                sent = weekly_reports_run(now=now)
            self.stdout.write(summary_line(sent, schema=tenant.schema_name))
