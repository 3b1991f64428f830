from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import schema_context

from salesflow.csvtext import CsvEncodingError, csv_decode
from salesflow.org.roster import roster_import
from salesflow.tenancy.selectors import tenant_get_by_schema


class Command(BaseCommand):
    help = "Import or update a tenant's sales roster from CSV; nothing is imported if any row is bad."

    def add_arguments(self, parser):
        parser.add_argument("--schema", required=True)
        parser.add_argument("csv_path")

    def handle(self, *args, schema, csv_path, **options):
        if tenant_get_by_schema(schema) is None:
            raise CommandError(f"no tenant with schema {schema!r}")
        path = Path(csv_path)
        try:
            decoded = csv_decode(path.read_bytes())
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc}") from None
        except CsvEncodingError as exc:
            raise CommandError(f"{path}: {exc}") from None
        with schema_context(schema):
            result = roster_import(actor="import_roster command", text=decoded.text, source=path.name,
                                   encoding=decoded.encoding)
        if not result.ok:
            raise CommandError("nothing imported:\n" + "\n".join(result.errors))
        self.stdout.write(f"encoding: {result.encoding}")
        self.stdout.write(f"roster imported into {schema}: created={result.created} updated={result.updated}")
