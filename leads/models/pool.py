"""Claims on leads of the public pool."""
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from salesflow.i18n import render

from .lead import Lead


class PoolClaim(models.Model):
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="claims", verbose_name=_("lead"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("user"))
    claimed_at = models.DateTimeField(default=timezone.now, verbose_name=_("claimed at"))
    released_at = models.DateTimeField(null=True, blank=True, verbose_name=_("released at"))
    release_reason = models.JSONField(default=dict, blank=True, verbose_name=_("release reason"))  # a stored message

    class Meta:
        verbose_name = _("pool claim")
        verbose_name_plural = _("pool claims")
        ordering = ["-claimed_at"]
        indexes = [models.Index(fields=["lead", "user"], name="leads_claim_lead_user_idx")]

    def __str__(self):
        return f"{self.lead_id} · {self.user_id} · {self.claimed_at:%Y-%m-%d %H:%M}"

    @property
    def release_reason_text(self) -> str:
        return render(self.release_reason)
