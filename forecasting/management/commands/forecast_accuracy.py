from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django_tenants.utils import tenant_context

from forecasting.accuracy.measure import accuracy_measure
from forecasting.accuracy.scores import METHODS
from salesflow.management.clock import clock_option
from salesflow.tenancy.selectors import tenant_get_by_schema


class Command(BaseCommand):
    help = "WAPE and bias of each forecast method over the closed weeks, from the frozen snapshots."

    def add_arguments(self, parser):
        parser.add_argument("--schema", required=True)
        parser.add_argument("--lead-weeks", type=int, default=4, help="snapshot taken this many weeks before the week (default 4)")
        parser.add_argument("--now", help="the clock deciding which weeks are closed, ISO-8601 with offset (default: now)")

    def handle(self, *args, **opts):
        if not 1 <= opts["lead_weeks"] <= 52:
            raise CommandError("--lead-weeks must be between 1 and 52")
        tenant = tenant_get_by_schema(opts["schema"])
        if tenant is None:
            raise CommandError(f"no tenant with schema {opts['schema']!r}")
        with tenant_context(tenant):
            result = accuracy_measure(lead=opts["lead_weeks"], now=clock_option(opts["now"]) or timezone.now())
        for method in METHODS:
            self.stdout.write(result.scores[method].line(tenant.schema_name, opts["lead_weeks"]))
