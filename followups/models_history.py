"""Field-by-field history of accounts, contacts and opportunities (imported by models.py).

Every write through the record services adds one row per field it changed (and one per
field set at creation, with no old value), in the same transaction as the change and its
audit entry. Rows are append-only (a database trigger refuses UPDATE and DELETE).

Rebuilding a record "as known at T" (what forecasting does): for each field, the
`new_value` of the latest row at or before T; where a record predates its history
(created by a bulk import), the `old_value` of the earliest row after T, else the current
value. Stage moves keep their own history in StageChange. Values are JSON: decimals and
dates as strings (ISO 8601), users and other rows as ids; labels are rendered when read.
"""
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class RecordKind(models.TextChoices):
    ACCOUNT = "account", _("account")
    CONTACT = "contact", _("contact")
    OPPORTUNITY = "opportunity", _("opportunity")


class RecordChange(models.Model):
    """One field of one record: old → new, who, when, from where (web, mobile, bulk, admin …)."""

    record_type = models.CharField(max_length=16, choices=RecordKind.choices)
    record_id = models.BigIntegerField()
    # The customer the record belongs to: an account page lists its whole history at once.
    account_id = models.BigIntegerField()
    field = models.CharField(max_length=40)
    old_value = models.JSONField(null=True, blank=True)
    new_value = models.JSONField(null=True, blank=True)
    # Plain ids, not foreign keys: history outlives the rows and people it names.
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_label = models.CharField(max_length=150)
    at = models.DateTimeField(default=timezone.now)
    via = models.CharField(max_length=32)
    at_creation = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("record change")
        verbose_name_plural = _("record changes")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["record_type", "record_id", "-at"], name="followups_change_record"),
            models.Index(fields=["account_id", "-at"], name="followups_change_account"),
            # Forecast rebuilds: every amount / close-date change of the tenant in time order.
            models.Index(fields=["record_type", "field", "at"], name="followups_change_field_at"),
        ]

    def __str__(self):
        return f"{self.record_type} #{self.record_id} {self.field}"
