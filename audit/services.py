from dataclasses import dataclass

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
# The steps are common table expressions so that a service may send them in the statement of
# its own last write (`PendingEntry`); `appended` returns the entry as stored.
APPEND_CTES = """
audit_head AS (
    SELECT seq, entry_hash FROM audit_auditchainhead WHERE id = 1 FOR UPDATE
), audit_sealed AS (
    SELECT seq + 1 AS seq, entry_hash AS prev_hash,
           %(before_prev)s || entry_hash || %(before_seq)s || (seq + 1)::text || %(after_seq)s AS canonical
      FROM audit_head
), audit_added AS (
    INSERT INTO audit_auditentry (seq, prev_hash, entry_hash, canonical, created_at, actor_id,
                                  actor_label, verb, target_type, target_id, payload, reason)
    SELECT seq, prev_hash, encode(sha256(convert_to(canonical, 'UTF8')), 'hex'), canonical, %(created_at)s,
           %(actor_id)s, %(actor_label)s, %(verb)s, %(target_type)s, %(target_id)s, %(payload)s::jsonb, %(reason)s
      FROM audit_sealed
    RETURNING id, seq, prev_hash, entry_hash, canonical
), appended AS (
    UPDATE audit_auditchainhead SET seq = audit_added.seq, entry_hash = audit_added.entry_hash
      FROM audit_added WHERE audit_auditchainhead.id = 1
    RETURNING audit_added.id, audit_added.seq, audit_added.prev_hash, audit_added.entry_hash, audit_added.canonical
)"""
APPENDED_COLUMNS = "appended.id, appended.seq, appended.prev_hash, appended.entry_hash, appended.canonical"
_APPEND_SQL = f"WITH {APPEND_CTES} SELECT {APPENDED_COLUMNS} FROM appended"


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


@dataclass
class PendingEntry:
    """An entry ready to append: its fields and the parameters of APPEND_CTES."""

    fields: dict
    params: dict

    def stored(self, row) -> AuditEntry:
        """The entry as appended, from the APPENDED_COLUMNS of its statement."""
        pk, seq, prev_hash, entry_hash, canonical = row
        return AuditEntry(pk=pk, seq=seq, prev_hash=prev_hash, entry_hash=entry_hash, canonical=canonical, **self.fields)


def audit_entry_prepare(
    *,
    actor,
    verb: str,
    target: models.Model | None = None,
    target_type: str = "",
    target_id=None,
    payload: dict | None = None,
    reason: str = "",
    at=None,
) -> PendingEntry:
    """Everything of an entry but its place in the chain, which the append takes under the head's lock."""
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
    return PendingEntry(fields=fields, params={**fields, **pieces, "payload": payload_text})


def _refuse_outside_transaction() -> None:
    if not connection.in_atomic_block:
        raise AuditOutsideTransaction("audit_record must run inside the transaction of the change it records")


def audit_record(**entry) -> AuditEntry:
    """Append one entry to the current tenant's chain, inside the caller's transaction (the
    arguments are audit_entry_prepare's).

    The chain head row is locked and read in the same statement that appends, so
    concurrent appends queue up instead of forking. The lock is held until the caller
    commits: call this as the last write of a service to keep that window short.
    """
    _refuse_outside_transaction()
    pending = audit_entry_prepare(**entry)
    with connection.cursor() as cursor:
        cursor.execute(_APPEND_SQL, pending.params)
        return pending.stored(cursor.fetchone())


def audit_record_atomic(**kwargs) -> AuditEntry:
    """For callers whose change has no transaction of its own (a sign-in, an export)."""
    with transaction.atomic():
        return audit_record(**kwargs)
