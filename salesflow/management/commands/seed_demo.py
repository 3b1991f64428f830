import random
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.module_loading import import_string
from django_tenants.utils import schema_context

from salesflow.tenancy.selectors import tenant_get_by_schema


class Command(BaseCommand):
    help = "Fill a tenant with realistic, deterministic (per --seed) sample history."

    def add_arguments(self, parser):
        parser.add_argument("--schema", required=True)
        parser.add_argument("--reps", type=int, default=24)
        parser.add_argument("--opportunities", type=int, default=300)
        parser.add_argument("--days", type=int, default=90)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--evidence-signal", type=float, default=None, dest="evidence_signal",
            help="0–1: how strongly a deal's hidden quality drives the evidence its reps collect (default: realistic)",
        )

    def handle(self, *args, **opts):
        if tenant_get_by_schema(opts["schema"]) is None:
            raise CommandError(f"no tenant with schema {opts['schema']!r}")
        if opts["reps"] < 1 or opts["days"] < 1 or opts["opportunities"] < 0:
            raise CommandError("--reps and --days must be ≥ 1, --opportunities ≥ 0")
        if opts["evidence_signal"] is not None and not 0 <= opts["evidence_signal"] <= 1:
            raise CommandError("--evidence-signal must be between 0 and 1")
        with schema_context(opts["schema"]):
            for dotted in settings.SALESFLOW_DEMO_SEEDERS:
                started = time.monotonic()
                # Each seeder gets its own generator so adding one never reshuffles the others.
                rng = random.Random(f"{opts['seed']}:{dotted}")
                summary = import_string(dotted)(rng=rng, options=opts)
                self.stdout.write(f"{dotted}: {summary} ({time.monotonic() - started:.1f}s)")
