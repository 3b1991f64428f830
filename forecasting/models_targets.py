"""Sales targets per period and organisation level, and the weekly deviation heatmaps sent.

A target belongs to one node of the organisation (the company, a region, a team or a rep)
for one month or quarter, optionally for one product line ("" = every product line). Lower
levels are meant to add up to the level above; `forecasting.services.targets` says by how
much they do not.
"""
from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PeriodKind(models.TextChoices):
    MONTH = "month", _("month")
    QUARTER = "quarter", _("quarter")


class TargetLevel(models.TextChoices):
    COMPANY = "company", _("company")
    REGION = "region", _("region")
    TEAM = "team", _("team")
    REP = "rep", _("rep")


class Target(models.Model):
    period_kind = models.CharField(_("period"), max_length=8, choices=PeriodKind.choices)
    period_start = models.DateField(_("period start"), help_text=_("The first day of the month or quarter."))
    level = models.CharField(_("level"), max_length=8, choices=TargetLevel.choices)
    region = models.ForeignKey(
        "org.Region", null=True, blank=True, on_delete=models.CASCADE, related_name="targets", verbose_name=_("region")
    )
    team = models.ForeignKey(
        "org.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="targets", verbose_name=_("team")
    )
    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="targets",
        verbose_name=_("rep"),
    )
    product_line = models.CharField(_("product line"), max_length=64, blank=True, help_text=_("Empty: every product line."))
    amount = models.DecimalField(
        _("target amount"), max_digits=14, decimal_places=2, validators=[MinValueValidator(0)]
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_targets",
        verbose_name=_("owner"), help_text=_("Who answers for reaching this target."),
    )
    deadline = models.DateField(_("deadline"), help_text=_("The date by which the target is to be reached."))
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("updated by"),
    )

    class Meta:
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        ordering = ["period_start", "level", "product_line"]
        constraints = [
            models.UniqueConstraint(
                fields=["period_kind", "period_start", "level", "region", "team", "rep", "product_line"],
                name="forecasting_target_one_per_node", nulls_distinct=False,
                violation_error_message=_("This node already has a target for this period and product line."),
            ),
            models.CheckConstraint(
                name="forecasting_target_node_matches_level",
                condition=(
                    models.Q(level="company", region__isnull=True, team__isnull=True, rep__isnull=True)
                    | models.Q(level="region", region__isnull=False, team__isnull=True, rep__isnull=True)
                    | models.Q(level="team", region__isnull=True, team__isnull=False, rep__isnull=True)
                    | models.Q(level="rep", region__isnull=True, team__isnull=True, rep__isnull=False)
                ),
                violation_error_message=_(
                    "Choose exactly the node of the level: nothing for the company, only a region, a team or a rep."
                ),
            ),
            models.CheckConstraint(name="forecasting_target_amount_not_negative", condition=models.Q(amount__gte=0),
                                   violation_error_message=_("A target cannot be negative.")),
        ]
        indexes = [models.Index(fields=["period_kind", "period_start"], name="forecasting_target_period")]

    def __str__(self):
        node = self.region or self.team or self.rep or _("company")
        line = f" · {self.product_line}" if self.product_line else ""
        return f"{self.period_start:%Y-%m} {self.get_period_kind_display()} · {node}{line}"

    @property
    def node_id(self) -> int | None:
        return self.region_id or self.team_id or self.rep_id


class TargetPolicy(models.Model):
    """The tenant's heatmap thresholds: one row per schema (pk=1).

    A cell's deviation is attainment minus the share expected by now, in percentage points.
    """

    green_from = models.SmallIntegerField(
        _("green from (points)"), default=-5, validators=[MinValueValidator(-100), MaxValueValidator(100)],
        help_text=_("A deviation at or above this many percentage points is green."),
    )
    yellow_from = models.SmallIntegerField(
        _("yellow from (points)"), default=-15, validators=[MinValueValidator(-100), MaxValueValidator(100)],
        help_text=_("At or above this (and below green) is yellow; below it is red."),
    )

    class Meta:
        verbose_name = _("target heatmap policy")
        verbose_name_plural = _("target heatmap policy")
        constraints = [
            models.CheckConstraint(
                name="forecasting_policy_yellow_below_green", condition=models.Q(yellow_from__lte=models.F("green_from")),
                violation_error_message=_("Yellow must start at or below green."),
            )
        ]

    def __str__(self):
        return str(self._meta.verbose_name)


class HeatmapReport(models.Model):
    """One weekly heatmap for one manager, claimed (inserted) before it is sent: unique per ISO week.

    `cells` keeps the figures sent (numbers and codes, no sentences) so the page can show
    what went out on Friday next to the live map.
    """

    iso_week = models.CharField(_("ISO week"), max_length=8)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("recipient")
    )
    scope = models.CharField(_("scope"), max_length=8, choices=TargetLevel.choices)
    period_start = models.DateField(_("period start"))
    cells = models.JSONField(_("cells"), default=dict)
    sent_at = models.DateTimeField(_("sent at"))

    class Meta:
        verbose_name = _("deviation heatmap sent")
        verbose_name_plural = _("deviation heatmaps sent")
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(fields=["iso_week", "recipient"], name="forecasting_heatmap_once_per_week")
        ]

    def __str__(self):
        return f"{self.iso_week} · {self.recipient}"
