from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import schema_context

from audit.checkpoints.verification import checkpoints_verify
from audit.selectors import audit_chain_verify
from salesflow.tenancy.selectors import tenant_get_by_schema


class Command(BaseCommand):
    help = ("Verify a tenant's audit hash chain and its signed checkpoints; exit 1 naming the first broken "
            "entry, a cut tail or an inconsistent checkpoint.")

    def add_arguments(self, parser):
        parser.add_argument("--schema", required=True)

    def handle(self, *args, schema, **options):
        tenant = tenant_get_by_schema(schema)
        if tenant is None:
            raise CommandError(f"no tenant with schema {schema!r}")
        with schema_context(tenant.schema_name):
            verdict = audit_chain_verify()
            if not verdict.intact:
                self.stderr.write(str(verdict))
                raise SystemExit(1)
            checkpoints = checkpoints_verify(count=verdict.count)
        if not checkpoints.intact:
            for problem in checkpoints.problems:
                self.stderr.write(f"{schema}: {problem}")
            raise SystemExit(1)
        self.stdout.write(f"{schema}: {checkpoints}")
        self.stdout.write(f"{schema}: {verdict}")
