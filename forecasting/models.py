"""Evidence behind an opportunity's follow-ups, and the credit score it adds up to.

Evidence rows are never deleted: a manager's review changes an item's level and points
and is kept as an `EvidenceReview`, so a forecast "as known then" can be rebuilt from
`Evidence.created_at` and the reviews' `at`.
"""
from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class EvidenceLevel(models.IntegerChoices):
    STRONG = 1, _("strong")
    MEDIUM = 2, _("medium")
    WEAK = 3, _("weak")


class EvidenceSource(models.TextChoices):
    CUSTOMER_SUBMISSION = "customer_submission", _("customer's own submission")
    CUSTOMER_CONFIRMATION = "customer_confirmation", _("customer confirmation")
    MINUTES = "minutes", _("uploaded meeting minutes")
    NOTE = "note", _("plain-text note")
    PREPAYMENT = "prepayment", _("prepayment received")


class EvidenceState(models.TextChoices):
    ACCEPTED = "accepted", _("accepted")
    DOWNGRADED = "downgraded", _("downgraded")
    REJECTED = "rejected", _("rejected")


class CreditPolicy(models.Model):
    """The tenant's points per evidence level: one row per schema (pk=1)."""

    strong_points = models.PositiveSmallIntegerField(_("points for strong evidence"), default=10, validators=[MaxValueValidator(100)])
    medium_points = models.PositiveSmallIntegerField(_("points for medium evidence"), default=6, validators=[MaxValueValidator(100)])
    weak_points = models.PositiveSmallIntegerField(_("points for weak evidence"), default=2, validators=[MaxValueValidator(100)])
    prepayment_points = models.PositiveSmallIntegerField(_("points for a prepayment"), default=8, validators=[MaxValueValidator(100)])

    class Meta:
        verbose_name = _("credit policy")
        verbose_name_plural = _("credit policy")

    def __str__(self):
        return str(self._meta.verbose_name)


class Evidence(models.Model):
    opportunity = models.ForeignKey(
        "followups.Opportunity", on_delete=models.PROTECT, related_name="evidence", verbose_name=_("opportunity")
    )
    followup = models.ForeignKey(
        "followups.FollowUp", null=True, blank=True, on_delete=models.PROTECT, related_name="evidence",
        verbose_name=_("follow-up"),
    )
    source = models.CharField(_("backed by"), max_length=24, choices=EvidenceSource.choices)
    level = models.PositiveSmallIntegerField(_("level"), choices=EvidenceLevel.choices)
    points = models.PositiveSmallIntegerField(_("points"))
    state = models.CharField(_("review state"), max_length=12, choices=EvidenceState.choices, default=EvidenceState.ACCEPTED)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        verbose_name = _("evidence")
        verbose_name_plural = _("evidence")
        indexes = [
            models.Index(fields=["opportunity", "created_at"], name="forecasting_ev_opp_time"),
            # The review queue: items a manager may still downgrade or reject, newest first.
            models.Index(fields=["-created_at"], name="forecasting_ev_reviewable",
                         condition=models.Q(state__in=["accepted", "downgraded"], level__gt=1)),
        ]
        constraints = [
            # A prepayment and the customer's own submission count once per opportunity.
            models.UniqueConstraint(fields=["opportunity"], condition=models.Q(source="prepayment"),
                                    name="forecasting_ev_one_prepayment"),
            models.UniqueConstraint(fields=["opportunity"], condition=models.Q(source="customer_submission"),
                                    name="forecasting_ev_one_submission"),
        ]

    def __str__(self):
        return f"{self.get_source_display()} · {self.points}"


class EvidenceReview(models.Model):
    """A manager's downgrade or rejection of one evidence item, with the required reason."""

    class Action(models.TextChoices):
        DOWNGRADE = "downgrade", _("downgrade")
        REJECT = "reject", _("reject")

    evidence = models.ForeignKey(Evidence, on_delete=models.PROTECT, related_name="reviews", verbose_name=_("evidence"))
    action = models.CharField(_("action"), max_length=12, choices=Action.choices)
    level_before = models.PositiveSmallIntegerField(_("level before"), choices=EvidenceLevel.choices)
    level_after = models.PositiveSmallIntegerField(_("level after"), choices=EvidenceLevel.choices)
    points_before = models.PositiveSmallIntegerField(_("points before"))
    points_after = models.PositiveSmallIntegerField(_("points after"))
    reason = models.CharField(_("reason"), max_length=500)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("reviewer")
    )
    at = models.DateTimeField(_("reviewed at"), default=timezone.now)

    class Meta:
        verbose_name = _("evidence review")
        verbose_name_plural = _("evidence reviews")
        constraints = [
            # One downgrade and one rejection at most per item, however many managers click at once.
            models.UniqueConstraint(fields=["evidence", "action"], name="forecasting_review_once_per_action"),
        ]

    def __str__(self):
        return f"{self.get_action_display()} · {self.reason[:40]}"


from .models_evidence import (  # noqa: E402,F401  (models of this app live in several modules)
    CustomerConfirmation,
    DeliverySchedule,
    FinanceSecret,
    Prepayment,
    PrepaymentVia,
)
from .models_forecast import (  # noqa: E402,F401  the weekly forecast's models
    CommitAdjustment,
    CommitCategory,
    CommitCurrent,
    CommitEntry,
    ForecastAlert,
    ForecastSnapshot,
    SnapshotLine,
    SnapshotResidual,
    SnapshotRollup,
)
from .models_sealed import SealedLineSums, SealedWeek  # noqa: E402,F401
from .models_targets import HeatmapReport, PeriodKind, Target, TargetLevel, TargetPolicy  # noqa: E402,F401
