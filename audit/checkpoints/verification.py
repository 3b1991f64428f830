"""What verify_audit checks beyond the hash chain: the chain is as long as its head and every
signed checkpoint say, every checkpoint's signature holds, and the tree rebuilt from the
entries has each checkpoint's root at that checkpoint's size — so rewriting old entries and
re-hashing everything after them is caught, not only an edited row. Stored RFC 3161 time-stamp
tokens are checked again too: each must still stamp its checkpoint's note under a valid
time-stamping signature (a token swapped or edited in the database is caught)."""
import datetime as dt
from dataclasses import dataclass, field
from hashlib import sha256

from django.db import connection, transaction

from .. import merkle
from ..models import AuditChainHead, AuditEntry
from ..verifier import verify_record
from . import tsa
from .keys import verifier_key
from .models import Checkpoint, CheckpointStamp

# A token cannot come from the future of the row that stores it, beyond the two clocks' drift.
STAMP_CLOCK_SKEW = dt.timedelta(minutes=5)


@dataclass
class CheckpointsVerdict:
    checkpoints: int = 0
    latest_size: int = 0
    stamps: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems

    def __str__(self):
        if self.intact:
            stamped = f"; {self.stamps} time stamps verified" if self.stamps else ""
            return (f"{self.checkpoints} signed checkpoints consistent with the tree "
                    f"(latest covers {self.latest_size} entries){stamped}")
        return "; ".join(self.problems)


def _when(checkpoint: Checkpoint) -> str:
    return f"checkpoint at tree size {checkpoint.tree_size} (signed {checkpoint.created_at:%Y-%m-%d %H:%M} UTC)"


def _tail_problems(count: int, latest: Checkpoint | None) -> list[str]:
    problems = []
    head = AuditChainHead.objects.values_list("seq", flat=True).get(pk=1)
    if head > count:
        problems.append(f"tail cut: entries #{count + 1}..#{head} are missing (the chain head records {head} entries, "
                        f"the log holds {count})")
    if latest is not None and latest.tree_size > count:
        problems.append(f"tail cut: entries #{count + 1}..#{latest.tree_size} are missing "
                        f"({_when(latest)} signed a tree of {latest.tree_size} entries)")
    return problems


def _signature_problems(checkpoints: list[Checkpoint]) -> list[str]:
    if not checkpoints:
        return []
    vkey = str(verifier_key())
    problems, previous = [], None
    for checkpoint in checkpoints:
        try:
            origin, size, root = verify_record.checkpoint_open(checkpoint.note, vkey)
        except verify_record.RecordInvalid as failure:
            problems.append(f"{_when(checkpoint)}: {failure}")
            continue
        if (size, root.hex()) != (checkpoint.tree_size, checkpoint.root_hash):
            problems.append(f"{_when(checkpoint)}: its signed note states size {size}, root {root.hex()}, not its columns")
        if previous is not None and checkpoint.consistency_from == previous.tree_size:
            proof = [bytes.fromhex(h) for h in checkpoint.consistency_proof.split()]
            if not verify_record.consistency_holds(previous.tree_size, size, bytes.fromhex(previous.root_hash), root, proof):
                problems.append(f"{_when(checkpoint)}: its consistency proof from tree size {previous.tree_size} fails")
        previous = checkpoint
    return problems


def _stamp_problems() -> tuple[int, list[str]]:
    """Re-verify every stored time-stamp token against its checkpoint's note. Checked against the
    certificate each token carries, not today's pinned one: the pin is a stamping-time policy, and
    changing authority must not make earlier stamps read as forged."""
    verified, problems = 0, []
    for stamp in CheckpointStamp.objects.filter(token__isnull=False).select_related("checkpoint").order_by("id"):
        try:
            stamped_at = tsa.token_verify(bytes(stamp.token), stamp.checkpoint.note.encode(), trusted=[])
        except tsa.TimestampFailed as failure:
            problems.append(f"{_when(stamp.checkpoint)}: its time stamp from {stamp.tsa_url} does not verify: {failure}")
            continue
        if stamped_at > stamp.created_at + STAMP_CLOCK_SKEW:
            problems.append(f"{_when(stamp.checkpoint)}: its time stamp says {stamped_at:%Y-%m-%d %H:%M:%S} UTC, "
                            f"after it was stored ({stamp.created_at:%Y-%m-%d %H:%M:%S} UTC)")
            continue
        verified += 1
    return verified, problems


def _tree_problems(count: int, checkpoints: list[Checkpoint], chunk_size: int) -> list[str]:
    """Rebuild the tree from the entries' hashes and compare its root at each checkpoint's size."""
    due = sorted((c for c in checkpoints if c.tree_size <= count), key=lambda c: c.tree_size)
    if not due:
        return []
    problems, tree, position = [], merkle.CompactRange(), 0
    table = connection.ops.quote_name(AuditEntry._meta.db_table)
    with transaction.atomic(), connection.chunked_cursor() as cursor:
        cursor.execute(f"SELECT decode(entry_hash, 'hex') FROM {table} WHERE seq <= %s ORDER BY seq", [due[-1].tree_size])
        while position < len(due):
            rows = cursor.fetchmany(chunk_size)
            if not rows:
                break
            for row in rows:
                tree.append(sha256(b"\x00" + bytes(row[0])).digest())
                while position < len(due) and due[position].tree_size == tree.size:
                    checkpoint = due[position]
                    if tree.root().hex() != checkpoint.root_hash:
                        problems.append(
                            f"{_when(checkpoint)} is not consistent with the current tree: its root there is "
                            f"{tree.root().hex()}, the checkpoint signed {checkpoint.root_hash} "
                            f"(entries up to #{checkpoint.tree_size} were rewritten)"
                        )
                    position += 1
    return problems


def checkpoints_verify(*, count: int, chunk_size: int = 20000) -> CheckpointsVerdict:
    """Check the stored checkpoints against a chain of `count` intact entries."""
    checkpoints = list(Checkpoint.objects.order_by("tree_size"))
    latest = checkpoints[-1] if checkpoints else None
    verdict = CheckpointsVerdict(checkpoints=len(checkpoints), latest_size=latest.tree_size if latest else 0)
    verdict.problems += _tail_problems(count, latest)
    verdict.problems += _signature_problems(checkpoints)
    verdict.problems += _tree_problems(count, checkpoints, chunk_size)
    verdict.stamps, problems = _stamp_problems()
    verdict.problems += problems
    return verdict
