from django.db import connection, models, transaction
from django.utils import timezone

from .canonical import canonical_json, normalise, sha256_hex
from .models import AuditChainHead, AuditEntry


class AuditOutsideTransaction(RuntimeError):
    pass


def _target_parts(target: models.Model | None, target_type: str, target_id) -> tuple[str, str]:
    if target is not None:
        return target._meta.label_lower, str(target.pk)
    return target_type, "" if target_id is None else str(target_id)


def audit_record(
    *,
    actor,
    verb: str,
    target: models.Model | None = None,
    target_type: str = "",
    target_id=None,
    payload: dict | None = None,
    reason: str = "",
    at=None,
) -> AuditEntry:
    """Append one entry to the current tenant's chain, inside the caller's transaction.

    The chain head row is locked first and read only after the lock, so concurrent
    appends queue up instead of forking. The lock is held until the caller commits:
    call this as the last write of a service to keep that window short.
    """
    if not connection.in_atomic_block:
        raise AuditOutsideTransaction("audit_record must run inside the transaction of the change it records")

    head = AuditChainHead.objects.select_for_update().get(pk=1)
    kind, ident = _target_parts(target, target_type, target_id)
    is_user = actor is not None and getattr(actor, "is_authenticated", False)
    actor_id = actor.pk if is_user else None
    actor_label = actor.get_username() if is_user else (str(actor) if actor else "system")
    created_at = at or timezone.now()
    clean_payload = normalise(payload or {})
    seq = head.seq + 1
    content = {
        "seq": seq,
        "prev_hash": head.entry_hash,
        "created_at": created_at,
        "actor_id": actor_id,
        "actor": actor_label,
        "verb": verb,
        "target_type": kind,
        "target_id": ident,
        "payload": clean_payload,
        "reason": reason,
    }
    canonical = canonical_json(content)
    entry_hash = sha256_hex(canonical)
    entry = AuditEntry.objects.create(
        seq=seq,
        prev_hash=head.entry_hash,
        entry_hash=entry_hash,
        canonical=canonical,
        created_at=created_at,
        actor_id=actor_id,
        actor_label=actor_label,
        verb=verb,
        target_type=kind,
        target_id=ident,
        payload=clean_payload,
        reason=reason,
    )
    AuditChainHead.objects.filter(pk=1).update(seq=seq, entry_hash=entry_hash)
    return entry


def audit_record_atomic(**kwargs) -> AuditEntry:
    """For callers whose change has no transaction of its own (a sign-in, an export)."""
    with transaction.atomic():
        return audit_record(**kwargs)
