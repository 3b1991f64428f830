from django.core.files import File
from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import schema_context

from leads.messages import import_error_text
from leads.models import ImportJob
from leads.services.imports import import_job_run, import_job_start, import_preview
from salesflow.csvtext import CsvEncodingError
from salesflow.tenancy.selectors import tenant_get_by_schema


class Command(BaseCommand):
    help = "Import leads from a CSV file (header row; columns named like the API fields or their Chinese names)."

    def add_arguments(self, parser):
        parser.add_argument("--schema", required=True)
        parser.add_argument("csv_path")

    def handle(self, *args, **opts):
        if tenant_get_by_schema(opts["schema"]) is None:
            raise CommandError(f"no tenant with schema {opts['schema']!r}")
        with schema_context(opts["schema"]), open(opts["csv_path"], "rb") as handle:
            job = ImportJob.objects.create(file=File(handle, name=opts["csv_path"].rsplit("/", 1)[-1]))
            try:
                _, _, mapping = import_preview(job)
            except CsvEncodingError as exc:
                raise CommandError(str(exc)) from None
            if not mapping:
                raise CommandError("no column of the header matches a lead field")
            import_job_start(actor="import_leads command", job=job, mapping=mapping, queue=False)
            job = import_job_run(job_id=job.pk)
            for error in job.errors[:50]:
                self.stderr.write(f"line {error['line']}: {import_error_text(error)}")
            self.stdout.write(f"encoding: {job.encoding}")
            self.stdout.write(f"rows={job.processed_rows} created={job.created_leads} duplicates={job.duplicate_rows} bad={len(job.errors)}")
