"""What intake keeps besides leads: idempotency records and CSV imports."""
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .keys import IntakeKey
from .lead import Lead


class IdempotencyRecord(models.Model):
    intake_key = models.ForeignKey(IntakeKey, on_delete=models.CASCADE, related_name="+", verbose_name=_("intake key"))
    key = models.CharField(max_length=200, verbose_name=_("key"))
    body_hash = models.CharField(max_length=64, verbose_name=_("body hash"))
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="+", verbose_name=_("lead"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [models.UniqueConstraint(fields=["intake_key", "key"], name="leads_idempotency_once")]

    def __str__(self):
        return f"{self.key} → {self.lead_id}"


class ImportJob(models.Model):
    class Status(models.TextChoices):
        PREVIEW = "preview", _("Waiting for column mapping")
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    file = models.FileField(_("CSV file"), upload_to="lead-imports/")
    mapping = models.JSONField(_("column mapping"), default=dict, blank=True)
    encoding = models.CharField(_("encoding"), max_length=32, blank=True, help_text=_("As detected when the file was read."))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PREVIEW)
    total_rows = models.PositiveIntegerField(default=0, verbose_name=_("total rows"))
    processed_rows = models.PositiveIntegerField(default=0, verbose_name=_("processed rows"))
    created_leads = models.PositiveIntegerField(default=0, verbose_name=_("created leads"))
    duplicate_rows = models.PositiveIntegerField(default=0, verbose_name=_("duplicate rows"))
    errors = models.JSONField(default=list, blank=True, verbose_name=_("errors"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("created by"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))

    class Meta:
        verbose_name = _("lead import")
        verbose_name_plural = _("lead imports")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.file.name} ({self.get_status_display()})"

    @property
    def percent(self) -> int:
        return int(100 * self.processed_rows / self.total_rows) if self.total_rows else 0
