from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django_tenants.utils import tenant_context

from forecasting.snapshots import history_rebuild, snapshot_take
from salesflow.management.clock import clock_option
from salesflow.tenancy.selectors import tenants_for_command


class Command(BaseCommand):
    help = "Freeze this ISO week's forecast per tenant (what beat does Monday 00:00 tenant time); idempotent per week."

    def add_arguments(self, parser):
        parser.add_argument("--schema", help="one tenant (default: every tenant)")
        parser.add_argument("--now", help="the clock, ISO-8601 with offset (default: now)")
        parser.add_argument(
            "--rebuild-weeks", type=int, default=0, metavar="N",
            help="first rebuild the N past weeks' snapshots from what was recorded by each Monday 00:00",
        )

    def handle(self, *args, **opts):
        now = clock_option(opts["now"]) or timezone.now()
        if opts["rebuild_weeks"] < 0 or opts["rebuild_weeks"] > 520:
            raise CommandError("--rebuild-weeks must be between 0 and 520")
        for tenant in tenants_for_command(opts["schema"]):
            with tenant_context(tenant):
                for result in history_rebuild(now=now, weeks=opts["rebuild_weeks"]):
                    self.stdout.write(result.summary_line().replace("forecast snapshot", "rebuilt", 1))
                result = snapshot_take(now=now)
            self.stdout.write(result.summary_line())
