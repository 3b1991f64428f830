from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from salesflow.tenancy.selectors import tenant_get_by_schema
from salesflow.tenancy.services import tenant_provision


class Command(BaseCommand):
    help = "Create a tenant (schema cloned from the template) with its admin and default configuration."

    def add_arguments(self, parser):
        parser.add_argument("--schema", required=True)
        parser.add_argument("--domain", required=True)
        parser.add_argument("--name", required=True)
        parser.add_argument("--admin-email", required=True)
        parser.add_argument("--admin-password", required=True)
        parser.add_argument("--intake-rate-limit", type=int, default=6000, help="requests per minute per intake key")
        parser.add_argument("--if-missing", action="store_true", help="do nothing when the schema already exists")

    def handle(self, *args, **opts):
        if opts["if_missing"] and tenant_get_by_schema(opts["schema"]):
            self.stdout.write(f"tenant {opts['schema']} exists; nothing to do")
            return
        try:
            result = tenant_provision(
                schema=opts["schema"],
                domain=opts["domain"],
                name=opts["name"],
                admin_email=opts["admin_email"],
                admin_password=opts["admin_password"],
                intake_rate_limit=opts["intake_rate_limit"],
            )
        except ValidationError as exc:
            lines = [f"{field}: {msg}" for field, msgs in exc.message_dict.items() for msg in msgs]
            raise CommandError("cannot provision:\n" + "\n".join(lines)) from None
        self.stdout.write(f"tenant {result.tenant.schema_name} ready at {opts['domain']}")
        self.stdout.write(f"admin: {result.admin_username}")
        for label, value in result.announcements.items():
            self.stdout.write(f"{label}: {value}")
