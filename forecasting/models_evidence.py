"""What backs strong evidence and what a prepayment unlocks: customer confirmations,
prepayments, delivery scheduling, and the tenant's finance webhook secret."""
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class CustomerConfirmation(models.Model):
    """A rep's request that the customer confirm a meeting on their own phone.

    The link carries a signed token naming this row; the row makes it single-use
    (`confirmed_at` is set once, under a row lock) and says when it expires.
    """

    opportunity = models.ForeignKey(
        "followups.Opportunity", on_delete=models.PROTECT, related_name="confirmations", verbose_name=_("opportunity")
    )
    followup = models.ForeignKey(
        "followups.FollowUp", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("follow-up"),
    )
    rep = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("rep"))
    rep_name = models.CharField(_("rep's name"), max_length=150)
    subject = models.CharField(_("subject"), max_length=200)
    met_on = models.DateField(_("met on"))
    nonce = models.CharField(max_length=32, unique=True, verbose_name=_("nonce"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    user_agent = models.CharField(_("confirming browser"), max_length=300, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    evidence = models.OneToOneField(
        "forecasting.Evidence", null=True, blank=True, on_delete=models.PROTECT, related_name="confirmation",
        verbose_name=_("evidence"),
    )

    class Meta:
        verbose_name = _("customer confirmation")
        verbose_name_plural = _("customer confirmations")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.rep_name} · {self.met_on} · {self.subject[:40]}"


class PrepaymentVia(models.TextChoices):
    WEBHOOK = "webhook", _("finance system (webhook)")
    FINANCE_USER = "finance_user", _("finance user")


class Prepayment(models.Model):
    """Money received before delivery; one reference is recorded once."""

    opportunity = models.ForeignKey(
        "followups.Opportunity", on_delete=models.PROTECT, related_name="prepayments", verbose_name=_("opportunity")
    )
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    received_at = models.DateTimeField(_("received at"))
    reference = models.CharField(_("reference"), max_length=100, unique=True)
    via = models.CharField(_("recorded through"), max_length=16, choices=PrepaymentVia.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    evidence = models.OneToOneField(
        "forecasting.Evidence", null=True, blank=True, on_delete=models.PROTECT, related_name="prepayment",
        verbose_name=_("evidence"),
    )

    class Meta:
        verbose_name = _("prepayment")
        verbose_name_plural = _("prepayments")
        ordering = ["-received_at"]
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="forecasting_prepayment_positive")]

    def __str__(self):
        return f"{self.reference} · {self.amount} {self.currency}"


class DeliverySchedule(models.Model):
    """Planned delivery of an opportunity: only possible once a prepayment is in."""

    opportunity = models.OneToOneField(
        "followups.Opportunity", on_delete=models.PROTECT, related_name="delivery", verbose_name=_("opportunity")
    )
    planned_on = models.DateField(_("planned delivery date"))
    note = models.CharField(_("note"), max_length=500, blank=True)
    scheduled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("scheduled by")
    )
    scheduled_at = models.DateTimeField(_("scheduled at"), default=timezone.now)

    class Meta:
        verbose_name = _("delivery schedule")
        verbose_name_plural = _("delivery schedules")

    def __str__(self):
        return f"{self.opportunity_id} · {self.planned_on}"


class FinanceSecret(models.Model):
    """The tenant's webhook secret (pk=1), encrypted with the key in settings: verifying an
    HMAC needs the secret itself, so a hash would not do."""

    ciphertext = models.TextField(_("encrypted secret"))
    hint = models.CharField(_("ends with"), max_length=8)
    rotated_at = models.DateTimeField(_("issued at"), default=timezone.now)
    rotated_by = models.CharField(_("issued by"), max_length=150)

    class Meta:
        verbose_name = _("finance webhook secret")
        verbose_name_plural = _("finance webhook secret")

    def __str__(self):
        return f"…{self.hint}"
