"""CSV import: preview, column mapping, then row by row through the same intake as the API.

Good rows are kept and routed, each bad row is reported with its line and reason; the
job's counters are saved every batch so the admin's progress bar moves.
"""
import csv
import datetime as dt
import io

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from salesflow import i18n
from salesflow.broker import kick, kick_many
from salesflow.csvtext import CsvEncodingError, CsvText, csv_decode
from salesflow.i18n import message

from ..models import Channel, ImportJob
from ..messages import import_error_text, import_row_problems
from .intake import lead_intake
from .validation import FIELDS, lead_payload_problems

IMPORT_KICK_GRACE = dt.timedelta(minutes=1)

PROGRESS_EVERY = 200
MAX_REPORTED_ERRORS = 10000
# Header spellings recognised without a mapping (English and the usual Chinese column names).
ALIASES = {
    "company": ["company", "公司", "客户名称", "单位"], "contact_name": ["contact_name", "contact", "联系人", "姓名"],
    "phone": ["phone", "mobile", "电话", "手机"], "email": ["email", "e-mail", "邮箱"], "channel": ["channel", "渠道"],
    "industry": ["industry", "行业"], "region": ["region", "区域", "地区"], "product_line": ["product_line", "产品线"],
    "budget_grade": ["budget_grade", "grade", "预算等级"], "industry_match": ["industry_match", "行业匹配度"],
    "tier": ["tier", "客户层级"], "external_id": ["external_id", "外部编号"], "note": ["note", "备注"],
}


def _decoded(job: ImportJob) -> CsvText:
    """The file's text in the encoding detected (UTF-8, GBK/GB18030, UTF-16), which the job then
    names; CsvEncodingError when none reads it cleanly: nothing is imported as mojibake."""
    job.file.open("rb")
    raw = job.file.read()
    job.file.close()
    decoded = csv_decode(raw)
    if job.encoding != decoded.encoding:
        job.encoding = decoded.encoding
        ImportJob.objects.filter(pk=job.pk).update(encoding=decoded.encoding)
    return decoded


def _rows(reader, limit: int | None = None) -> tuple[list[list[str]], dict | None]:
    """The rows up to the first one the csv module cannot read (a field over its size limit),
    and that one as a row error: said, not a server error."""
    rows = []
    try:
        for row in reader:
            rows.append(row)
            if limit is not None and len(rows) >= limit:
                break
    except csv.Error as exc:
        return rows, {"line": reader.line_num, "problems": [message("import.unreadable", detail=str(exc))]}
    return rows, None


def import_preview(job: ImportJob, *, rows: int = 5) -> tuple[list[str], list[list[str]], dict]:
    """The header, the first rows, and a mapping guessed from the header names (CsvEncodingError
    when the file cannot be decoded cleanly)."""
    reader = _decoded(job).reader()
    head, _ = _rows(reader, limit=1)
    header = head[0] if head else []
    sample, _ = _rows(reader, limit=rows)
    guess = {}
    for index, name in enumerate(header):
        key = name.strip().lower()
        for field, aliases in ALIASES.items():
            if key in aliases and field not in guess.values():
                guess[str(index)] = field
    return header, sample, guess


def import_job_start(*, actor, job: ImportJob, mapping: dict[str, str], queue: bool = True) -> ImportJob:
    """Fix the mapping (column index → field) and queue the run after commit (unless the caller runs it)."""
    from ..tasks import import_job_run_task

    mapping = {str(col): field for col, field in mapping.items() if field in FIELDS}
    with transaction.atomic():
        changed = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.PREVIEW).update(
            mapping=mapping, status=ImportJob.Status.QUEUED
        )
        if changed:
            audit_record(actor=actor, verb="lead_import.started", target=job, payload={"file": job.file.name, "mapping": mapping})
            if queue:
                # A kick that never waits on the broker; `import_jobs_sweep` runs what it missed.
                transaction.on_commit(lambda: kick(import_job_run_task, job.pk))
    job.refresh_from_db()
    return job


def import_jobs_sweep(*, now) -> int:
    """Queue again the jobs still waiting a minute after they were created (their kick may have
    found the broker away); running a job twice is harmless, the run claims it first."""
    from ..tasks import import_job_run_task

    waiting = ImportJob.objects.filter(status=ImportJob.Status.QUEUED, created_at__lt=now - IMPORT_KICK_GRACE)
    return kick_many(import_job_run_task, [(pk,) for pk in waiting.values_list("pk", flat=True)[:100]])


def import_job_run(*, job_id: int) -> ImportJob:
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.QUEUED).update(status=ImportJob.Status.RUNNING)
    job = ImportJob.objects.get(pk=job_id)
    if not claimed:
        return job  # already run, running, or never started: running twice would import twice
    try:
        reader = _decoded(job).reader()
    except CsvEncodingError:
        return _job_refuse(job, actor=job.created_by or "csv import")
    _rows(reader, limit=1)
    rows, unreadable = _rows(reader)
    job.total_rows = len(rows) + bool(unreadable)
    job.save(update_fields=["total_rows"])
    errors, created, duplicates = [], 0, 0
    actor = job.created_by or "csv import"
    for offset, row in enumerate(rows):
        line = offset + 2  # the header is line 1
        data = {field: row[int(col)] for col, field in job.mapping.items() if int(col) < len(row)}
        clean, problems = lead_payload_problems(data, coerce_strings=True)
        if problems:
            if len(errors) < MAX_REPORTED_ERRORS:
                errors.append({"line": line, "problems": import_row_problems(problems)})
        else:
            clean["channel"] = clean["channel"] or Channel.CSV
            result = lead_intake(clean=clean, actor=actor, via=f"csv import #{job.pk}")
            created += result.created
            duplicates += not result.created
        if (offset + 1) % PROGRESS_EVERY == 0:
            ImportJob.objects.filter(pk=job.pk).update(processed_rows=offset + 1, created_leads=created, duplicate_rows=duplicates)
    if unreadable:
        errors.append(unreadable)  # the rest of the file cannot be read: said, not dropped in silence
    job.processed_rows, job.created_leads, job.duplicate_rows, job.errors = job.total_rows, created, duplicates, errors
    job.status, job.finished_at = ImportJob.Status.DONE, timezone.now()
    with transaction.atomic():
        job.save(update_fields=["processed_rows", "created_leads", "duplicate_rows", "errors", "status", "finished_at"])
        audit_record(actor=actor, verb="lead_import.finished", target=job,
                     payload={"rows": job.total_rows, "created": created, "duplicates": duplicates, "bad_rows": len(errors)})
    return job


def _job_refuse(job: ImportJob, *, actor) -> ImportJob:
    job.status, job.finished_at = ImportJob.Status.FAILED, timezone.now()
    job.errors = [{"line": 1, "message": i18n.message("import.undecodable")}]
    with transaction.atomic():
        job.save(update_fields=["status", "finished_at", "errors"])
        audit_record(actor=actor, verb="lead_import.finished", target=job, payload={"refused": "encoding"})
    return job


def import_error_report(job: ImportJob) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("line"), _("reason")])
    for error in job.errors:
        writer.writerow([error["line"], import_error_text(error)])
    return out.getvalue()
