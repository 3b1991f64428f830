from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand

from salesflow.tenancy.selectors import tenant_get_by_schema
from salesflow.tenancy.services import public_domains_ensure, tenant_provision, tenant_template_ensure

DEMO = {
    "schema": "demo",
    "domain": "demo.localhost",
    "name": "演示医疗器械有限公司",
    "admin_email": "admin@demo.example.com",
    "admin_password": "salesflow-admin",
}


class Command(BaseCommand):
    help = "Bring a database up to date for local use: migrations, operator, template and the demo tenant."

    def add_arguments(self, parser):
        parser.add_argument("--operator-password", default="salesflow-operator")
        parser.add_argument("--no-demo", action="store_true")

    def handle(self, *args, operator_password, no_demo, **options):
        call_command("migrate_schemas", interactive=False, verbosity=0)
        public_domains_ensure(["localhost", "127.0.0.1"])
        tenant_template_ensure()
        User = get_user_model()
        if not User.objects.filter(username="operator").exists():
            User.objects.create_superuser("operator", "operator@salesflow.localhost", operator_password)
        if no_demo or tenant_get_by_schema(DEMO["schema"]):
            self.stdout.write("bootstrap: up to date")
            return
        result = tenant_provision(**DEMO)
        for label, value in result.announcements.items():
            self.stdout.write(f"{label}: {value}")
        call_command("seed_demo", schema=DEMO["schema"], stdout=self.stdout)
        self.stdout.write("bootstrap: demo tenant provisioned and seeded")
