from celery import shared_task
from django.utils import timezone


@shared_task(acks_late=True, reject_on_worker_lost=True)
def export_build_task(export_id: int) -> str:
    from .services import export_build

    export = export_build(export_id=export_id)
    return f"export {export.pk}: {export.status}, {export.entries} entries"


@shared_task
def exports_sweep_task() -> int:
    from .services import exports_sweep

    return exports_sweep(now=timezone.now())
