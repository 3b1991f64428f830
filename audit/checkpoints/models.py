from django.db import models
from django.utils.translation import gettext_lazy as _


class Checkpoint(models.Model):
    """A signed statement of the tenant's Merkle tree: origin, size and root, as a C2SP signed
    note. Append-only in PostgreSQL like the log itself."""

    tree_size = models.BigIntegerField(_("tree size"), unique=True)
    root_hash = models.CharField(_("root hash"), max_length=64)
    origin = models.CharField(_("origin"), max_length=253)
    note = models.TextField(_("signed note"))
    # RFC 9162 consistency proof from the checkpoint before this one (hex hashes, one per line).
    consistency_from = models.BigIntegerField(null=True, blank=True)
    consistency_proof = models.TextField(blank=True)
    reason = models.CharField(_("reason"), max_length=16)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("checkpoint")
        verbose_name_plural = _("checkpoints")
        ordering = ["-tree_size"]

    def __str__(self):
        return f"{self.tree_size} · {self.root_hash[:12]}…"


class CheckpointStamp(models.Model):
    """An RFC 3161 time-stamp token over a checkpoint's signed note (or why there is none)."""

    checkpoint = models.ForeignKey(Checkpoint, on_delete=models.PROTECT, related_name="stamps")
    tsa_url = models.CharField(max_length=500)
    token = models.BinaryField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("checkpoint time stamp")
        verbose_name_plural = _("checkpoint time stamps")


class MerkleTile(models.Model):
    """Up to 256 node hashes of height 8·level, positions 256·index onward (raw 32 bytes each),
    and the tile's inner nodes.

    Derived data that makes checkpoints incremental and proofs cheap; verify_audit never
    trusts it and recomputes the tree from the entries.
    """

    level = models.PositiveSmallIntegerField()
    index = models.BigIntegerField()
    hashes = models.BinaryField()
    # The nodes above them inside the tile, row after row (128, 64, … 2 of a full tile): a
    # proof then only looks hashes up.
    inner_nodes = models.BinaryField(default=b"")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["level", "index"], name="audit_merkletile_unique")]
