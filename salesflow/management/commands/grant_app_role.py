from django.core.management.base import BaseCommand
from django_tenants.utils import get_public_schema_name

from salesflow.tenancy.models import Tenant
from salesflow.tenancy.services import app_role_grant


class Command(BaseCommand):
    help = "Grant the application's database role its rights in every schema (the audit log: SELECT and INSERT only)."

    def add_arguments(self, parser):
        parser.add_argument("--role", required=True)

    def handle(self, *args, role, **options):
        schemas = [get_public_schema_name(), *Tenant.objects.exclude(schema_name=get_public_schema_name()).values_list("schema_name", flat=True)]
        app_role_grant(role=role, schemas=schemas)
        self.stdout.write(f"granted {role} its rights in {len(schemas)} schemas")
