import datetime as dt
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from django_tenants.utils import schema_context

from audit.export.services import export_build, export_request
from followups.models import Account
from salesflow.org.selectors import tenant_settings_get
from salesflow.tenancy.selectors import tenant_get_by_schema


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{value!r} is not a date (YYYY-MM-DD)") from None


class Command(BaseCommand):
    help = "Export one customer's interaction record (the zip of the account page's export button)."

    def add_arguments(self, parser):
        parser.add_argument("--schema", required=True)
        parser.add_argument("--account", required=True, type=int)
        parser.add_argument("--since", type=_date)
        parser.add_argument("--until", type=_date)
        parser.add_argument("--required-touches", type=int, default=10)
        parser.add_argument("--language", choices=["zh-hans", "en"])
        parser.add_argument("--out", required=True)

    def handle(self, *args, schema, account, since, until, required_touches, language, out, **options):
        tenant = tenant_get_by_schema(schema)
        if tenant is None:
            raise CommandError(f"no tenant with schema {schema!r}")
        if since and until and since > until:
            raise CommandError("--since comes after --until")
        with schema_context(tenant.schema_name):
            customer = Account.objects.filter(pk=account).first()
            if customer is None:
                raise CommandError(f"no account {account} in {schema}")
            language = language or tenant_settings_get().default_language
            with translation.override(language):
                export = export_request(actor="export_interactions command", account=customer, since=since, until=until,
                                        required_touches=required_touches, language=language, queue=False)
                export = export_build(export_id=export.pk)
        path = Path(out)
        path.write_bytes(bytes(export.archive))
        self.stdout.write(f"exported {export.entries} entries to {path}")
