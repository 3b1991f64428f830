from celery import shared_task

from .services import sla_scan


@shared_task(acks_late=True)
def sla_scan_task() -> str:
    """Per-tenant entry point fanned out by beat; safe to run twice (alerts are claimed)."""
    return sla_scan().summary_line()
