from django.core.management.base import BaseCommand
from django_tenants.utils import tenant_context

from forecasting.services.evidence import credit_recompute
from salesflow.tenancy.selectors import tenants_for_command

SHOWN = 20


class Command(BaseCommand):
    help = ("Add every opportunity's credit score up again from its evidence rows and compare it with the stored score; "
            "stores the evidence's sum where they differ, unless --check.")

    def add_arguments(self, parser):
        parser.add_argument("--schema", help="one tenant (default: every tenant)")
        parser.add_argument("--check", action="store_true", help="report differences only; exit 1 when there are any")

    def handle(self, *args, **opts):
        differing = 0
        for tenant in tenants_for_command(opts["schema"]):
            with tenant_context(tenant):
                differences = credit_recompute(actor="recompute_credit command", fix=not opts["check"])
            for d in differences[:SHOWN]:
                self.stdout.write(f"  opportunity {d.opportunity_id}: stored={d.stored} evidence={d.computed}")
            if len(differences) > SHOWN:
                self.stdout.write(f"  … and {len(differences) - SHOWN} more")
            action = "differ" if opts["check"] else "fixed"
            self.stdout.write(f"recompute credit {tenant.schema_name}: {action}={len(differences)}")
            differing += len(differences)
        if opts["check"] and differing:
            raise SystemExit(1)
