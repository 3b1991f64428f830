from django.db import transaction
from django.utils import timezone

from salesflow.broker import kick

from ..checkpoints.services import checkpoint_create
from ..services import audit_record
from .archive import record_archive
from .models import InteractionExport
from .selectors import record_entries

RUNNING_GRACE_MINUTES = 30


def export_request(*, actor, account, since=None, until=None, required_touches: int = 10, language: str = "zh-hans",
                   queue: bool = True) -> InteractionExport:
    """Record who asked for which customer's record and for what period; the worker builds it."""
    from .tasks import export_build_task

    with transaction.atomic():
        is_user = getattr(actor, "is_authenticated", False)
        label = (getattr(getattr(actor, "member", None), "full_name", "") or actor.get_username()) if is_user else str(actor)
        export = InteractionExport.objects.create(
            account=account, requested_by=actor if is_user else None, requested_label=label,
            since=since, until=until, required_touches=required_touches, language=language,
        )
        audit_record(actor=actor, verb="interaction_record.exported", target=account,
                     payload={"export": export.pk, "since": since, "until": until, "required_touches": required_touches})
        if queue:
            transaction.on_commit(lambda: kick(export_build_task, export.pk))
    return export


def _claim(export_id: int) -> bool:
    now = timezone.now()
    stale = now - timezone.timedelta(minutes=RUNNING_GRACE_MINUTES)
    queued = InteractionExport.objects.filter(pk=export_id, status=InteractionExport.Status.QUEUED)
    crashed = InteractionExport.objects.filter(pk=export_id, status=InteractionExport.Status.RUNNING, started_at__lt=stale)
    return bool((queued | crashed).update(status=InteractionExport.Status.RUNNING, started_at=now))


def export_build(*, export_id: int) -> InteractionExport:
    """Checkpoint the tree, then build the zip. Runs once per export (claimed first)."""
    if not _claim(export_id):
        return InteractionExport.objects.defer("archive").get(pk=export_id)
    export = InteractionExport.objects.select_related("account", "requested_by").get(pk=export_id)
    try:
        checkpoint = checkpoint_create(reason="export")
        entries = record_entries(account=export.account, since=export.since, until=export.until,
                                 up_to_seq=checkpoint.tree_size)
        data = record_archive(export=export, checkpoint=checkpoint, entries=entries)
    except Exception as exc:
        InteractionExport.objects.filter(pk=export_id).update(
            status=InteractionExport.Status.FAILED, error=f"{type(exc).__name__}: {exc}"[:300], finished_at=timezone.now(),
        )
        raise
    InteractionExport.objects.filter(pk=export_id).update(
        status=InteractionExport.Status.DONE, archive=data, entries=len(entries), tree_size=checkpoint.tree_size,
        finished_at=timezone.now(),
    )
    export.refresh_from_db()
    return export


def exports_sweep(*, now) -> int:
    """Queue again what a lost kick or a killed worker left behind."""
    from .tasks import export_build_task

    grace = now - timezone.timedelta(minutes=1)
    stale = now - timezone.timedelta(minutes=RUNNING_GRACE_MINUTES)
    waiting = (InteractionExport.objects.filter(status=InteractionExport.Status.QUEUED, created_at__lt=grace)
               | InteractionExport.objects.filter(status=InteractionExport.Status.RUNNING, started_at__lt=stale))
    sent = 0
    for pk in waiting.values_list("pk", flat=True)[:20]:
        sent += kick(export_build_task, pk)
    return sent


def export_downloaded(*, actor, export: InteractionExport) -> None:
    with transaction.atomic():
        audit_record(actor=actor, verb="interaction_record.downloaded", target_type="followups.account",
                     target_id=export.account_id, payload={"export": export.pk, "entries": export.entries})
