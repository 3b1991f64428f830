import time

from django.core.management.base import BaseCommand
from django_tenants.utils import tenant_context

from followups.services.closed_deals import closed_deals_refresh
from salesflow.tenancy.selectors import tenants_for_command


class Command(BaseCommand):
    help = ("Rewrite the closed-deal summaries the attribution page counts (triggers keep them; run this after "
            "restoring data with triggers off, or when a migration changes their layout).")

    def add_arguments(self, parser):
        parser.add_argument("--schema", help="one tenant (default: every tenant)")

    def handle(self, *args, **opts):
        for tenant in tenants_for_command(opts["schema"]):
            started = time.perf_counter()
            with tenant_context(tenant):
                written = closed_deals_refresh()
            self.stdout.write(f"refresh_closed_deals {tenant.schema_name}: {written} closed deals "
                              f"in {time.perf_counter() - started:.1f} s")
