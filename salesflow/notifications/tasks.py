from celery import shared_task
from django.utils import timezone

from .services import SEND_TIME_LIMIT, deliveries_sweep, delivery_send


# acks_late + reject_on_worker_lost: a message whose worker died is delivered again, and the
# claim makes the second run leave when the row is no longer pending. A send that never
# recorded its outcome is re-sent by the sweep after the lease, not by this message.
# No countdown retries: a retry is a `next_attempt_at` the sweep honours, so no message waits
# unacknowledged in a worker for longer than the visibility timeout.
@shared_task(acks_late=True, reject_on_worker_lost=True, time_limit=SEND_TIME_LIMIT, soft_time_limit=SEND_TIME_LIMIT - 10)
def delivery_send_task(delivery_id: int) -> str:
    return delivery_send(delivery_id=delivery_id).status


@shared_task(acks_late=True, reject_on_worker_lost=True)
def deliveries_sweep_task() -> dict:
    return deliveries_sweep(now=timezone.now())
