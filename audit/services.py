from django.db import connection, models, transaction
from django.utils import timezone

from .canonical import canonical_json, normalise
from .models import AuditEntry


class AuditOutsideTransaction(RuntimeError):
    pass


# Lock the chain head, seal and insert the entry, move the head: one statement, one round
# trip. Only the sequence number and the previous hash need the lock, so the canonical
# text is prepared before it and completed here around those two values; PostgreSQL's
# sha256() of the UTF-8 text is byte for byte the hash Python computes when verifying.
_APPEND_SQL = """
WITH head AS (
    SELECT seq, entry_hash FROM audit_auditchainhead WHERE id = 1 FOR UPDATE
), sealed AS (
    SELECT seq + 1 AS seq, entry_hash AS prev_hash,
           %(before_prev)s || entry_hash || %(before_seq)s || (seq + 1)::text || %(after_seq)s AS canonical
      FROM head
), added AS (
    INSERT INTO audit_auditentry (seq, prev_hash, entry_hash, canonical, created_at, actor_id,
                                  actor_label, verb, target_type, target_id, payload, reason)
    SELECT seq, prev_hash, encode(sha256(convert_to(canonical, 'UTF8')), 'hex'), canonical, %(created_at)s,
           %(actor_id)s, %(actor_label)s, %(verb)s, %(target_type)s, %(target_id)s, %(payload)s::jsonb, %(reason)s
      FROM sealed
    RETURNING id, seq, prev_hash, entry_hash, canonical
)
UPDATE audit_auditchainhead SET seq = added.seq, entry_hash = added.entry_hash
  FROM added WHERE audit_auditchainhead.id = 1
RETURNING added.id, added.seq, added.prev_hash, added.entry_hash, added.canonical
"""


def _target_parts(target: models.Model | None, target_type: str, target_id) -> tuple[str, str]:
    if target is not None:
        return target._meta.label_lower, str(target.pk)
    return target_type, "" if target_id is None else str(target_id)


def _canonical_pieces(*, created_at, actor_id, actor_label, verb, target_type, target_id, payload_text, reason) -> dict:
    """The canonical text of an entry, cut where its seq and prev_hash go.

    Keys sort as actor, actor_id, created_at, payload, prev_hash, reason, seq, target_id,
    target_type, verb; so the text is `before_prev` + prev_hash + `before_seq` + seq + `after_seq`.
    `payload_text` is the canonical text of the (normalised) payload, spliced in as it is: the
    payload is written out once, not again inside the head.
    """
    head = canonical_json({"actor": actor_label, "actor_id": actor_id, "created_at": created_at})
    head = head[:-1] + ',"payload":' + payload_text + "}"
    tail = canonical_json({"target_id": target_id, "target_type": target_type, "verb": verb})
    return {
        "before_prev": head[:-1] + ',"prev_hash":"',
        "before_seq": '","reason":' + canonical_json(reason) + ',"seq":',
        "after_seq": "," + tail[1:],
    }


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

    The chain head row is locked and read in the same statement that appends, so
    concurrent appends queue up instead of forking. The lock is held until the caller
    commits: call this as the last write of a service to keep that window short.
    """
    if not connection.in_atomic_block:
        raise AuditOutsideTransaction("audit_record must run inside the transaction of the change it records")

    kind, ident = _target_parts(target, target_type, target_id)
    is_user = actor is not None and getattr(actor, "is_authenticated", False)
    fields = {
        "created_at": at or timezone.now(),
        "actor_id": actor.pk if is_user else None,
        "actor_label": actor.get_username() if is_user else (str(actor) if actor else "system"),
        "verb": verb,
        "target_type": kind,
        "target_id": ident,
        "payload": normalise(payload or {}),
        "reason": reason,
    }
    payload_text = canonical_json(fields["payload"])
    pieces = _canonical_pieces(payload_text=payload_text, **{k: v for k, v in fields.items() if k != "payload"})
    with connection.cursor() as cursor:
        cursor.execute(_APPEND_SQL, {**fields, **pieces, "payload": payload_text})
        pk, seq, prev_hash, entry_hash, canonical = cursor.fetchone()
    return AuditEntry(pk=pk, seq=seq, prev_hash=prev_hash, entry_hash=entry_hash, canonical=canonical, **fields)


def audit_record_atomic(**kwargs) -> AuditEntry:
    """For callers whose change has no transaction of its own (a sign-in, an export)."""
    with transaction.atomic():
        return audit_record(**kwargs)
