from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class InteractionExport(models.Model):
    """One requested customer interaction record, built by a worker; the zip stays here,
    in the tenant's own schema."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("being built")
        DONE = "done", _("ready")
        FAILED = "failed", _("failed")

    account = models.ForeignKey("followups.Account", on_delete=models.CASCADE, related_name="+", verbose_name=_("account"))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+", verbose_name=_("requested by"))
    requested_label = models.CharField(_("requested by"), max_length=150)
    since = models.DateField(_("from"), null=True, blank=True)
    until = models.DateField(_("until"), null=True, blank=True)
    required_touches = models.PositiveIntegerField(_("required touches"), default=10)
    language = models.CharField(max_length=16, default="zh-hans")
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.QUEUED)
    entries = models.PositiveIntegerField(_("entries"), default=0)
    tree_size = models.BigIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    archive = models.BinaryField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("interaction record export")
        verbose_name_plural = _("interaction record exports")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["account", "-created_at"], name="audit_export_account_recent")]

    def filename(self) -> str:
        return f"interaction-record-{self.account_id}-{self.pk}.zip"
