from celery import shared_task
from django.utils import timezone

from .services.imports import import_job_run
from .services.pool import pool_release_expired


@shared_task
def import_job_run_task(job_id: int) -> str:
    job = import_job_run(job_id=job_id)
    return f"{job.status}: {job.created_leads} created, {job.duplicate_rows} duplicates, {len(job.errors)} bad rows"


@shared_task
def pool_release_expired_task() -> int:
    return pool_release_expired(now=timezone.now())
