from celery import shared_task
from django.utils import timezone

from .services.forecast_alerts import forecast_alert_scan
from .snapshots import snapshot_take


@shared_task(acks_late=True)
def forecast_snapshot_task() -> str:
    """Hourly per tenant: the first run of each ISO week (Monday 00:00 tenant time) freezes it; later runs find it frozen."""
    return snapshot_take(now=timezone.now(), actor="beat").summary_line()


@shared_task(acks_late=True)
def forecast_alert_scan_task() -> str:
    return forecast_alert_scan(now=timezone.now()).summary_line()
