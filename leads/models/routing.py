"""Routing rules and the decisions they made."""
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from salesflow.i18n import render

from .lead import BudgetGrade, Lead


class Strategy(models.TextChoices):
    TOP_PERFORMER = "top_performer", _("Top performer")
    ROUND_ROBIN = "round_robin", _("Round robin")
    LEAST_LOADED = "least_loaded", _("Least loaded")
    PUBLIC_POOL = "public_pool", _("Public pool")


class RoutingRule(models.Model):
    """Ordered; the first enabled rule whose every filled-in condition holds decides."""

    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveIntegerField(_("order"), default=100, db_index=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    # Conditions: an empty list or blank bound means "any"; values are vocabulary codes.
    budget_grades = ArrayField(models.CharField(max_length=1, choices=BudgetGrade.choices), verbose_name=_("budget grades"), default=list, blank=True)
    industries = ArrayField(models.CharField(max_length=64), verbose_name=_("industries"), default=list, blank=True)
    regions = ArrayField(models.CharField(max_length=100), verbose_name=_("regions"), default=list, blank=True)
    product_lines = ArrayField(models.CharField(max_length=64), verbose_name=_("product lines"), default=list, blank=True)
    channels = ArrayField(models.CharField(max_length=20), verbose_name=_("channels"), default=list, blank=True)
    tiers = ArrayField(models.CharField(max_length=32), verbose_name=_("tiers"), default=list, blank=True)
    score_min = models.IntegerField(_("score at least"), null=True, blank=True)
    score_max = models.IntegerField(_("score at most"), null=True, blank=True)
    # The rep pool the action draws from.
    pool_label = models.CharField(_("pool name"), max_length=100, blank=True, help_text=_("e.g. key account, inclusive"))
    pool_teams = models.ManyToManyField("org.Team", verbose_name=_("teams"), blank=True, related_name="+")
    pool_regions = models.ManyToManyField("org.Region", verbose_name=_("regions"), blank=True, related_name="+")
    pool_users = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name=_("explicit reps"), blank=True, related_name="+")
    match_lead_region = models.BooleanField(_("rep's region matches the lead's"), default=False)
    match_lead_product_line = models.BooleanField(_("rep sells the lead's product line"), default=False)
    match_lead_industry = models.BooleanField(_("rep covers the lead's industry"), default=False)
    min_years_experience = models.PositiveSmallIntegerField(_("at least years of experience"), null=True, blank=True)
    new_hires_only = models.BooleanField(_("new hires only"), default=False)
    strategy = models.CharField(_("strategy"), max_length=20, choices=Strategy.choices, default=Strategy.ROUND_ROBIN)
    min_close_rate = models.DecimalField(
        _("top performer: 7-day close rate above"), max_digits=4, decimal_places=3, null=True, blank=True,
        help_text=_("0.850 = 85 %; when nobody qualifies the best rate available wins."),
    )
    # Round-robin cursor: the user who took the last slot. Locked while routing through this rule.
    rr_last_user_id = models.BigIntegerField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")
        ordering = ["position", "id"]

    def __str__(self):
        return self.name

    def matches(self, lead: "Lead") -> bool:
        checks = (
            (self.budget_grades, lead.budget_grade), (self.industries, lead.industry), (self.regions, lead.region),
            (self.product_lines, lead.product_line), (self.channels, lead.channel), (self.tiers, lead.tier),
        )
        if any(allowed and value not in allowed for allowed, value in checks):
            return False
        if self.score_min is not None and lead.score < self.score_min:
            return False
        if self.score_max is not None and lead.score > self.score_max:
            return False
        return True


class RoutingDecision(models.Model):
    """One assignment decision with its basis: the routing log."""

    class Outcome(models.TextChoices):
        ASSIGNED = "assigned", _("Assigned")
        POOL = "pool", _("To the public pool")
        REASSIGNED = "reassigned", _("Reassigned")
        CLAIMED = "claimed", _("Claimed from the pool")
        RELEASED = "released", _("Released to the pool")

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="decisions", verbose_name=_("lead"))
    rule = models.ForeignKey(RoutingRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="decisions", verbose_name=_("rule"))
    rule_name = models.CharField(_("rule"), max_length=100, blank=True)
    strategy = models.CharField(_("strategy"), max_length=20, blank=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("assignee"))
    candidates = models.JSONField(_("candidates"), default=list, blank=True)
    score_breakdown = models.JSONField(default=dict, blank=True, verbose_name=_("score breakdown"))
    reason = models.TextField(_("reason"), blank=True)
    reason_message = models.JSONField(_("reason"), default=dict, blank=True)
    actor_label = models.CharField(max_length=150, blank=True, verbose_name=_("actor label"))
    decided_at = models.DateTimeField(_("decided at"), default=timezone.now)
    # Decisions routed in constant work keep only what is specific to the lead in `candidates`
    # (chosen, skipped for a reason); the full list is rebuilt from this roster and basis.
    roster_version = models.ForeignKey(
        "RosterVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    pool_basis = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("routing decision")
        verbose_name_plural = _("routing log")
        ordering = ["-decided_at", "-id"]
        indexes = [models.Index(fields=["-decided_at"], name="leads_decision_at_idx")]

    def __str__(self):
        return f"{self.get_outcome_display()} · {self.lead_id} · {self.decided_at:%Y-%m-%d %H:%M}"

    @property
    def reason_text(self) -> str:
        return render(self.reason_message, fallback=self.reason)
