"""The keys machines use to send leads (SPEC §8)."""
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class IntakeKey(models.Model):
    """A tenant's key for the intake API. Only a SHA-256 of the secret is kept."""

    label = models.CharField(_("label"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=16, unique=True, help_text=_("The visible start of the key."))
    key_hash = models.CharField(max_length=64, unique=True, verbose_name=_("key hash"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("created by"),
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        verbose_name = _("intake API key")
        verbose_name_plural = _("intake API keys")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.label} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
