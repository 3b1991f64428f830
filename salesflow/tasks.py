from celery import shared_task

from .weekly_reports import summary_line, weekly_reports_run


@shared_task(acks_late=True)
def weekly_reports_task() -> str:
    """Per-tenant entry point fanned out hourly by beat; each sender decides what is due by the
    tenant's clock, and a report already claimed is never sent again."""
    return summary_line(weekly_reports_run())
