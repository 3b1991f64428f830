from celery import shared_task

from .weekly_reports import weekly_reports_run


@shared_task(acks_late=True)
def weekly_reports_task() -> str:
    """Per-tenant entry point fanned out by beat; safe to run twice (each report is claimed)."""
    return weekly_reports_run().summary_line()
