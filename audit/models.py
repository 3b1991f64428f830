from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

GENESIS_HASH = "0" * 64


class AuditEntry(models.Model):
    """One appended action. Rows are never updated or deleted (PostgreSQL refuses it).

    `canonical` holds the exact text whose SHA-256 is `entry_hash`; it includes `seq` and
    `prev_hash`, so each entry seals the whole chain before it.
    """

    seq = models.BigIntegerField(_("sequence"), unique=True)
    # Unique through Meta.constraints: `unique=True` would add a LIKE index to each, never used.
    prev_hash = models.CharField(_("previous hash"), max_length=64)
    entry_hash = models.CharField(_("hash"), max_length=64)
    canonical = models.TextField(_("canonical content"))
    created_at = models.DateTimeField(_("time"))
    # No database constraint: the log must outlive the users and rows it names.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,  # audit_actor_time_idx leads with the actor
        related_name="+",
    )
    actor_label = models.CharField(_("actor name"), max_length=150)
    verb = models.CharField(_("action"), max_length=64)
    target_type = models.CharField(_("target type"), max_length=64, blank=True)
    target_id = models.CharField(_("target id"), max_length=64, blank=True)
    payload = models.JSONField(_("details"), default=dict, blank=True)
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["-seq"]
        indexes = [
            models.Index(fields=["target_type", "target_id"], name="audit_target_idx"),
            models.Index(fields=["verb", "created_at"], name="audit_verb_time_idx"),
            models.Index(fields=["actor", "created_at"], name="audit_actor_time_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["prev_hash"], name="audit_prev_hash_unique"),
            models.UniqueConstraint(fields=["entry_hash"], name="audit_entry_hash_unique"),
        ]

    def __str__(self):
        return f"#{self.seq} {self.verb} {self.target_type}:{self.target_id}"


class AuditChainHead(models.Model):
    """The single row every append locks: it serialises appends within one tenant schema."""

    seq = models.BigIntegerField(default=0)
    entry_hash = models.CharField(max_length=64, default=GENESIS_HASH)

    class Meta:
        verbose_name = _("audit chain head")

    def __str__(self):
        return f"{self.seq} · {self.entry_hash[:12]}…"



from .models_health import WeeklyHealthReport  # noqa: E402,F401  (models of this app live in two modules)
# Checkpoints and exports keep their models in their own packages; registered from here.
from .checkpoints.models import Checkpoint, CheckpointStamp, MerkleTile  # noqa: E402,F401
from .export.models import InteractionExport  # noqa: E402,F401
