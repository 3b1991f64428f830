from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import tenant_context

from salesflow.management.commands.run_sla_scan import _clock
from salesflow.tenancy.selectors import tenant_get_by_schema, tenant_list
from salesflow.weekly_reports import weekly_reports_run


class Command(BaseCommand):
    help = "Send the weekly reports due at the clock (Friday 17:00 heatmap, Monday 08:00 health report, tenant time)."

    def add_arguments(self, parser):
        parser.add_argument("--schema", help="one tenant (default: every tenant)")
        parser.add_argument("--now", help="the clock, ISO-8601 with offset (default: now)")

    def handle(self, *args, **opts):
        now = _clock(opts["now"])
        if opts["schema"]:
            tenant = tenant_get_by_schema(opts["schema"])
            if tenant is None:
                raise CommandError(f"no tenant with schema {opts['schema']!r}")
            tenants = [tenant]
        else:
            tenants = list(tenant_list())
        for tenant in tenants:
            with tenant_context(tenant):
                result = weekly_reports_run(now=now)
            self.stdout.write(result.summary_line())
