import datetime as dt
import json
from dataclasses import dataclass

from django.db.models import QuerySet

from .canonical import sha256_hex
from .models import GENESIS_HASH, AuditEntry

_COLUMNS = (
    "seq", "prev_hash", "entry_hash", "canonical", "created_at", "actor_id",
    "actor_label", "verb", "target_type", "target_id", "payload", "reason",
)


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


def _column_mismatch(row: dict, content: dict) -> str:
    stored_time = row["created_at"].astimezone(dt.timezone.utc).isoformat(timespec="microseconds")
    pairs = {
        "seq": (row["seq"], content.get("seq")),
        "prev_hash": (row["prev_hash"], content.get("prev_hash")),
        "created_at": (stored_time, content.get("created_at")),
        "actor_id": (row["actor_id"], content.get("actor_id")),
        "actor": (row["actor_label"], content.get("actor")),
        "verb": (row["verb"], content.get("verb")),
        "target_type": (row["target_type"], content.get("target_type")),
        "target_id": (row["target_id"], content.get("target_id")),
        "payload": (row["payload"], content.get("payload")),
        "reason": (row["reason"], content.get("reason")),
    }
    for name, (stored, sealed) in pairs.items():
        if stored != sealed:
            return f"column {name} differs from the sealed content"
    return ""


def _entry_problem(row: dict, expected_seq: int, expected_prev: str) -> str:
    if row["seq"] != expected_seq:
        return f"expected sequence {expected_seq}, found {row['seq']} (entries missing)"
    if row["prev_hash"] != expected_prev:
        return "previous hash does not match the entry before it"
    if sha256_hex(row["canonical"]) != row["entry_hash"]:
        return "hash does not match its canonical content"
    try:
        content = json.loads(row["canonical"])
    except ValueError:
        return "canonical content is not valid JSON"
    return _column_mismatch(row, content)


def audit_chain_verify(*, chunk_size: int = 5000) -> ChainVerdict:
    """Walk the current tenant's chain in order, streaming rows, and name the first bad entry."""
    rows = AuditEntry.objects.order_by("seq").values(*_COLUMNS).iterator(chunk_size=chunk_size)
    expected_prev, count = GENESIS_HASH, 0
    for row in rows:
        problem = _entry_problem(row, count + 1, expected_prev)
        if problem:
            return ChainVerdict(intact=False, count=count, broken_seq=row["seq"], problem=problem)
        expected_prev, count = row["entry_hash"], count + 1
    return ChainVerdict(intact=True, count=count)


def audit_entries_for_target(*, target_type: str, target_id) -> QuerySet[AuditEntry]:
    return AuditEntry.objects.filter(target_type=target_type, target_id=str(target_id)).order_by("seq")


def audit_recent(*, actor_ids=None, limit: int = 20) -> list[AuditEntry]:
    qs = AuditEntry.objects.order_by("-seq")
    if actor_ids is not None:
        qs = qs.filter(actor_id__in=actor_ids)
    return list(qs[:limit])
