from celery import shared_task
from django.utils import timezone

from .services.imports import import_job_run, import_jobs_sweep
from .services.pool import pool_release_expired


@shared_task(acks_late=True, reject_on_worker_lost=True)
def import_job_run_task(job_id: int) -> str:
    job = import_job_run(job_id=job_id)
    return f"{job.status}: {job.created_leads} created, {job.duplicate_rows} duplicates, {len(job.errors)} bad rows"


@shared_task
def pool_release_expired_task() -> int:
    return pool_release_expired(now=timezone.now())


@shared_task
def import_jobs_sweep_task() -> int:
    return import_jobs_sweep(now=timezone.now())
