from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import schema_context

from audit.selectors import audit_chain_verify
from salesflow.tenancy.selectors import tenant_get_by_schema


class Command(BaseCommand):
    help = "Verify a tenant's audit hash chain; exit 1 naming the first broken entry."

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
        self.stdout.write(f"{schema}: {verdict}")
