import json
import queue
import threading
from dataclasses import dataclass
from hashlib import sha256 as _sha256

from django.db import connection, transaction
from django.db.models import QuerySet

from .canonical import sha256_hex
from .models import GENESIS_HASH, AuditEntry

_loads = json.loads

# created_at comes back as the exact UTC text the canonical form uses
# (`datetime.isoformat(timespec="microseconds")` of a UTC time), payload as JSON text:
# that spares a datetime and a second object per row from the database adapter.
_VERIFY_SQL = """
SELECT seq, prev_hash, entry_hash, canonical,
       to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'),
       actor_id, actor_label, verb, target_type, target_id, payload::text, reason
  FROM {table}
 ORDER BY seq
"""


@dataclass(frozen=True)
class ChainVerdict:
    intact: bool
    count: int
    broken_seq: int | None = None
    problem: str = ""

    def __str__(self):
        if self.intact:
            return f"audit chain intact: {self.count} entries"
        return f"audit chain broken at entry #{self.broken_seq}: {self.problem}"


def _column_mismatch(row: tuple, content: dict) -> str:
    _, prev_hash, _, _, created_at, actor_id, actor_label, verb, target_type, target_id, payload, reason = row
    pairs = {
        "seq": (row[0], content.get("seq")),
        "prev_hash": (prev_hash, content.get("prev_hash")),
        "created_at": (created_at, content.get("created_at")),
        "actor_id": (actor_id, content.get("actor_id")),
        "actor": (actor_label, content.get("actor")),
        "verb": (verb, content.get("verb")),
        "target_type": (target_type, content.get("target_type")),
        "target_id": (target_id, content.get("target_id")),
        "payload": (json.loads(payload), content.get("payload")),
        "reason": (reason, content.get("reason")),
    }
    for name, (stored, sealed) in pairs.items():
        if stored != sealed:
            return f"column {name} differs from the sealed content"
    return ""


def _entry_problem(row: tuple, expected_seq: int, expected_prev: str) -> str:
    seq, prev_hash, entry_hash, canonical = row[:4]
    if seq != expected_seq:
        return f"expected sequence {expected_seq}, found {seq} (entries missing)"
    if prev_hash != expected_prev:
        return "previous hash does not match the entry before it"
    if sha256_hex(canonical) != entry_hash:
        return "hash does not match its canonical content"
    try:
        content = json.loads(canonical)
    except ValueError:
        return "canonical content is not valid JSON"
    return _column_mismatch(row, content)


def _entry_sound(row: tuple, expected_seq: int, expected_prev: str) -> bool:
    """The fast path of `_entry_problem`: the same checks, without naming the failure."""
    seq, prev_hash, entry_hash, canonical, created_at, actor_id, actor_label, verb, target_type, target_id, payload, reason = row
    if seq != expected_seq or prev_hash != expected_prev or _sha256(canonical.encode()).hexdigest() != entry_hash:
        return False
    try:
        content = _loads(canonical)
        return (
            content["seq"] == seq and content["prev_hash"] == prev_hash and content["created_at"] == created_at
            and content["actor_id"] == actor_id and content["actor"] == actor_label and content["verb"] == verb
            and content["target_type"] == target_type and content["target_id"] == target_id
            and content["reason"] == reason and _loads(payload) == content["payload"]
        )
    except (ValueError, KeyError, TypeError):
        return False


def _prefetched(cursor, chunk_size: int, stop: threading.Event):
    """Yield the cursor's rows in chunks while a thread already fetches the next chunk.

    PostgreSQL reads and sends a chunk on the other core while this thread hashes the last
    one. At most two chunks wait in the queue, so memory stays flat.
    """
    chunks: queue.Queue = queue.Queue(maxsize=2)

    def fetch():
        try:
            while not stop.is_set():
                rows = cursor.fetchmany(chunk_size)
                chunks.put(rows)
                if not rows:
                    return
        except BaseException as exc:  # handed to the consuming thread, which raises it
            chunks.put(exc)

    reader = threading.Thread(target=fetch, name="audit-verify-fetch", daemon=True)
    reader.start()
    try:
        while True:
            rows = chunks.get()
            if isinstance(rows, BaseException):
                raise rows
            if not rows:
                return
            yield rows
    finally:
        stop.set()
        while reader.is_alive():  # unblock a reader waiting on a full queue, then let it finish
            try:
                chunks.get(timeout=0.05)
            except queue.Empty:
                pass
        reader.join()


def audit_chain_verify(*, chunk_size: int = 5000) -> ChainVerdict:
    """Walk the current tenant's chain in order, streaming rows, and name the first bad entry.

    One server-side cursor inside a transaction (so PostgreSQL streams rather than
    materialising the result), plain tuples fetched a chunk ahead, and a fast check per
    row; only a row that fails it goes through `_entry_problem` to be named. Memory stays
    flat at any size.
    """
    expected_prev, count = GENESIS_HASH, 0
    stop = threading.Event()
    with transaction.atomic(), connection.chunked_cursor() as cursor:
        cursor.execute(_VERIFY_SQL.format(table=connection.ops.quote_name(AuditEntry._meta.db_table)))
        for rows in _prefetched(cursor.cursor, chunk_size, stop):
            for row in rows:
                if not _entry_sound(row, count + 1, expected_prev):
                    problem = _entry_problem(row, count + 1, expected_prev)
                    if problem:
                        return ChainVerdict(intact=False, count=count, broken_seq=row[0], problem=problem)
                expected_prev, count = row[2], count + 1
    return ChainVerdict(intact=True, count=count)


def audit_entries_for_target(*, target_type: str, target_id) -> QuerySet[AuditEntry]:
    return AuditEntry.objects.filter(target_type=target_type, target_id=str(target_id)).order_by("seq")


def audit_recent(*, actor_ids=None, limit: int = 20) -> list[AuditEntry]:
    # Time order, not chain order: imported history may carry earlier times than its seq.
    qs = AuditEntry.objects.order_by("-created_at", "-seq")
    if actor_ids is not None:
        qs = qs.filter(actor_id__in=actor_ids)
    return list(qs[:limit])
