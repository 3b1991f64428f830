from celery import shared_task
from django.utils import timezone

from .services import delivery_send, deliveries_sweep


@shared_task(acks_late=True)
def delivery_send_task(delivery_id: int) -> str:
    outcome = delivery_send(delivery_id=delivery_id)
    if outcome.retry_in is not None:
        delivery_send_task.apply_async((delivery_id,), countdown=outcome.retry_in)
    return outcome.status


@shared_task
def deliveries_sweep_task() -> dict:
    return deliveries_sweep(now=timezone.now())
