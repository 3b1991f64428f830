import base64
import logging
from hashlib import sha256

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from .. import merkle
from ..models import AuditChainHead
from . import tsa
from .keys import sign, tenant_origin
from .models import Checkpoint, CheckpointStamp, MerkleTile
from .tiles import TileStore, tiles_extend

logger = logging.getLogger(__name__)


class ChainGap(RuntimeError):
    """The entries between the last checkpoint and the chain head are not all there."""


_NEW_LEAVES_SQL = """
SELECT decode(entry_hash, 'hex') FROM audit_auditentry WHERE seq > %s AND seq <= %s ORDER BY seq
"""


def checkpoint_body(origin: str, tree_size: int, root: bytes) -> str:
    """The C2SP tlog-checkpoint body: origin, decimal size, base64 root, each on its own line."""
    return f"{origin}\n{tree_size}\n{base64.b64encode(root).decode()}\n"


def signed_note(body: str) -> str:
    key, signature = sign(body.encode())
    encoded = base64.b64encode(key.key_hash + signature).decode()
    return f"{body}\n\u2014 {key.name} {encoded}\n"


def _lock() -> None:
    # One checkpoint writer per tenant at a time (beat and an export may race); the key
    # carries the schema because advisory locks are per database.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(current_schema() || ':audit-checkpoint'))")


def _new_leaves(old_size: int, head: int) -> list[bytes]:
    with connection.cursor() as cursor:
        cursor.execute(_NEW_LEAVES_SQL, [old_size, head])
        rows = cursor.fetchall()
    if len(rows) != head - old_size:
        raise ChainGap(f"the chain head is at #{head} but only {len(rows)} entries follow #{old_size}")
    return [sha256(b"\x00" + bytes(row[0])).digest() for row in rows]


def _store_for(latest: Checkpoint | None) -> TileStore:
    """The tile store at the latest checkpoint; rebuilt from nothing when its tiles disagree."""
    if latest is None:
        MerkleTile.objects.all().delete()
        return TileStore(0)
    store = TileStore(latest.tree_size)
    try:
        if store.root().hex() == latest.root_hash:
            return store
    except LookupError:
        pass
    logger.warning("audit Merkle tiles of %s disagree with checkpoint %s: rebuilding", connection.schema_name, latest.tree_size)
    MerkleTile.objects.all().delete()
    return tiles_extend(TileStore(0), _new_leaves(0, latest.tree_size))


def checkpoint_create(*, reason: str, now=None) -> Checkpoint:
    """Sign the current tree, unless the latest checkpoint already covers every entry."""
    with transaction.atomic():
        _lock()
        latest = Checkpoint.objects.order_by("-tree_size").first()
        head = AuditChainHead.objects.values_list("seq", flat=True).get(pk=1)
        if latest is not None and latest.tree_size >= head:
            return latest
        store = tiles_extend(_store_for(latest), _new_leaves(latest.tree_size if latest else 0, head))
        root = store.root()
        proof = merkle.consistency_proof(latest.tree_size, head, store.subtree) if latest else []
        origin = tenant_origin(_tenant())
        checkpoint = Checkpoint.objects.create(
            tree_size=head, root_hash=root.hex(), origin=origin, note=signed_note(checkpoint_body(origin, head, root)),
            consistency_from=latest.tree_size if latest else None,
            consistency_proof="\n".join(h.hex() for h in proof), reason=reason, created_at=now or timezone.now(),
        )
    if settings.SALESFLOW_AUDIT_TSA_URL:
        checkpoint_stamp(checkpoint)
    return checkpoint


def _tenant():
    from salesflow.tenancy.models import Tenant

    return Tenant.objects.get(schema_name=connection.schema_name)


def checkpoint_stamp(checkpoint: Checkpoint) -> CheckpointStamp:
    """Ask the configured RFC 3161 authority to time-stamp the checkpoint's signed note."""
    url = settings.SALESFLOW_AUDIT_TSA_URL
    try:
        token, error = tsa.timestamp(checkpoint.note.encode(), url=url, timeout=settings.SALESFLOW_AUDIT_TSA_TIMEOUT), ""
    except tsa.TimestampFailed as failure:
        logger.warning("time-stamping checkpoint %s failed: %s", checkpoint.tree_size, failure)
        token, error = None, str(failure)[:300]
    return CheckpointStamp.objects.create(checkpoint=checkpoint, tsa_url=url, token=token, error=error, created_at=timezone.now())
