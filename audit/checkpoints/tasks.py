from celery import shared_task
from django.utils import timezone


@shared_task
def checkpoint_hourly_task() -> str:
    from .services import checkpoint_create

    checkpoint = checkpoint_create(reason="hourly")
    return f"checkpoint at tree size {checkpoint.tree_size}"


@shared_task
def checkpoint_weekly_mail_task() -> int:
    from .mail import checkpoint_mail_admins

    return checkpoint_mail_admins(now=timezone.now())
