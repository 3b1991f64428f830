"""The weekly forecast: reps' commit categories, managers' adjustments, frozen snapshots and
the once-per-period alerts (imported by models.py).

A snapshot is frozen per ISO week: one `ForecastSnapshot` with the weight curve it used and
a digest of its lines (appended to the audit log), and one `SnapshotLine` per open
opportunity as it was known at the snapshot's instant. Lines are written by set-based SQL
(forecasting/snapshots.py) and never updated.
"""
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class CommitCategory(models.TextChoices):
    COMMIT = "commit", _("commit")
    BEST_CASE = "best_case", _("best case")
    PIPELINE = "pipeline", _("pipeline")
    OMITTED = "omitted", _("omitted")


class CommitEntry(models.Model):
    """A rep's category for one opportunity and its expected close week; the latest row counts.

    Append-only, so a snapshot rebuilt for a past week reads the category as it was then.
    """

    opportunity = models.ForeignKey(
        "followups.Opportunity", on_delete=models.CASCADE, related_name="commit_entries", verbose_name=_("opportunity")
    )
    category = models.CharField(_("category"), max_length=12, choices=CommitCategory.choices)
    period = models.DateField(_("close week (Monday)"))
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("set by")
    )
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("commit category")
        verbose_name_plural = _("commit categories")
        indexes = [models.Index(fields=["opportunity", "-at"], name="forecasting_commit_opp_at")]

    def __str__(self):
        return f"{self.opportunity_id}: {self.category}"


class CommitCurrent(models.Model):
    """The latest CommitEntry of each opportunity, kept beside it so the board joins one row
    instead of looking up each deal's newest entry (written with every CommitEntry)."""

    opportunity = models.OneToOneField(
        "followups.Opportunity", on_delete=models.CASCADE, primary_key=True, related_name="commit_current"
    )
    category = models.CharField(max_length=12, choices=CommitCategory.choices)
    period = models.DateField()

    class Meta:
        verbose_name = _("current commit category")
        verbose_name_plural = _("current commit categories")
        indexes = [
            # The board's committed sums: the commit rows of the coming weeks, read from the index alone. Not a
            # partial index on category = 'commit': the category is a bound parameter, and a prepared statement's
            # generic plan cannot use an index whose predicate depends on it (it scanned the table instead).
            models.Index(fields=["category", "period"], include=["opportunity"], name="forecasting_commit_cur_week"),
        ]

    def __str__(self):
        return f"{self.opportunity_id}: {self.category}"


class CommitAdjustment(models.Model):
    """A manager's figure for a team's committed amount in one week, with the note saying why."""

    team = models.ForeignKey("org.Team", on_delete=models.CASCADE, related_name="+", verbose_name=_("team"))
    period = models.DateField(_("week (Monday)"))
    amount = models.DecimalField(_("adjusted committed amount"), max_digits=16, decimal_places=2)
    rollup = models.DecimalField(_("reps' committed roll-up then"), max_digits=16, decimal_places=2)
    note = models.CharField(_("note"), max_length=500)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("by")
    )
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("commit adjustment")
        verbose_name_plural = _("commit adjustments")
        indexes = [models.Index(fields=["team", "period", "-at"], name="forecasting_adjust_team")]

    def __str__(self):
        return f"{self.team_id} {self.period}: {self.amount}"


class ForecastSnapshot(models.Model):
    week = models.DateField(_("week (Monday)"), unique=True)
    taken_at = models.DateTimeField(_("as known at"))
    rebuilt = models.BooleanField(_("rebuilt from history"), default=False)
    opportunities = models.IntegerField(_("opportunities"), default=0)
    weighted = models.DecimalField(_("credit-weighted"), max_digits=18, decimal_places=2, default=0)
    stage_weighted = models.DecimalField(_("stage-weighted"), max_digits=18, decimal_places=2, default=0)
    committed = models.DecimalField(_("committed"), max_digits=18, decimal_places=2, default=0)
    # [{"band": i, "closed": n, "won": n, "prior": p, "weight": w}] fitted on deals closed before taken_at.
    curve = models.JSONField(_("weight curve"), default=list)
    # In-week weights per lead, band and stage (forecast_weights.WeekFit.as_json); None on snapshots frozen
    # before them, whose lines carry eventual-win weights in `credit_weight` and no `lead`.
    weights = models.JSONField(_("in-week weights"), null=True, blank=True)
    digest = models.CharField(_("digest"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("frozen at"), default=timezone.now)

    class Meta:
        verbose_name = _("forecast snapshot")
        verbose_name_plural = _("forecast snapshots")
        ordering = ["-week"]

    def __str__(self):
        iso = self.week.isocalendar()
        return f"{iso.year}-W{iso.week:02d}"


class SnapshotLine(models.Model):
    snapshot = models.ForeignKey(ForecastSnapshot, on_delete=models.PROTECT, related_name="lines")
    opportunity_id = models.BigIntegerField()
    owner_id = models.BigIntegerField()
    team_id = models.BigIntegerField(null=True)
    region_id = models.BigIntegerField(null=True)
    stage_id = models.BigIntegerField()
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    close_date = models.DateField(null=True)
    close_week = models.DateField(null=True)
    credit = models.IntegerField()
    band = models.SmallIntegerField()
    # P(won within the forecast week | band, lead) since in-week weights (lead set); before: P(won eventually | band).
    credit_weight = models.FloatField()
    stage_weight = models.FloatField()  # Stage.probability as typed
    category = models.CharField(max_length=12)
    lead = models.SmallIntegerField(null=True)  # weeks from the snapshot to the forecast week, capped at MAX_LEAD
    stage_fit_weight = models.FloatField(null=True)  # P(won within the forecast week | stage, lead), fitted like credit

    class Meta:
        verbose_name = _("snapshot line")
        verbose_name_plural = _("snapshot lines")
        constraints = [
            models.UniqueConstraint(fields=["snapshot", "opportunity_id"], name="forecasting_line_unique")
        ]
        indexes = [models.Index(fields=["snapshot", "close_week"], name="forecasting_line_week")]

    def __str__(self):
        return f"{self.snapshot_id}/{self.opportunity_id}"


class SnapshotRollup(models.Model):
    """A frozen snapshot summed per rep, team, region and the company, per close week (level, key)."""

    class Level(models.TextChoices):
        REP = "rep", _("rep")
        TEAM = "team", _("team")
        REGION = "region", _("region")
        COMPANY = "company", _("company")

    snapshot = models.ForeignKey(ForecastSnapshot, on_delete=models.PROTECT, related_name="rollups")
    level = models.CharField(max_length=8, choices=Level.choices)
    key = models.BigIntegerField(null=True)
    close_week = models.DateField(null=True)
    opportunities = models.IntegerField()
    amount = models.DecimalField(max_digits=18, decimal_places=2)
    weighted = models.DecimalField(max_digits=18, decimal_places=2)
    stage_weighted = models.DecimalField(max_digits=18, decimal_places=2)
    committed = models.DecimalField(max_digits=18, decimal_places=2)
    stage_fit_weighted = models.DecimalField(max_digits=18, decimal_places=2, null=True)

    class Meta:
        verbose_name = _("snapshot roll-up")
        verbose_name_plural = _("snapshot roll-ups")
        indexes = [models.Index(fields=["snapshot", "level", "key"], name="forecasting_rollup_key")]

    def __str__(self):
        return f"{self.snapshot_id} {self.level} {self.key} {self.close_week}"


class SnapshotResidual(models.Model):
    """What the pipeline of a snapshot does not hold, per scope and lead, frozen with it.

    The mean, over the 4 weeks already over at the snapshot (those with a snapshot `lead` weeks before
    them), of the amount won in that week by deals no line of that earlier snapshot forecast for it:
    deals created, or pulled in, after it. Added alike to the credit and fitted-stage forecasts.
    """

    snapshot = models.ForeignKey(ForecastSnapshot, on_delete=models.PROTECT, related_name="residuals")
    level = models.CharField(max_length=8, choices=SnapshotRollup.Level.choices)
    key = models.BigIntegerField(null=True)
    lead = models.SmallIntegerField()
    amount = models.DecimalField(max_digits=18, decimal_places=2)

    class Meta:
        verbose_name = _("snapshot residual")
        verbose_name_plural = _("snapshot residuals")
        indexes = [models.Index(fields=["snapshot", "level", "key"], name="forecasting_residual_key")]

    def __str__(self):
        return f"{self.snapshot_id} {self.level} {self.key} +{self.lead}w"


class ForecastAlert(models.Model):
    """Claimed once per scope and week: credit-weighted fell below 0.7 × committed."""

    class Scope(models.TextChoices):
        TEAM = "team", _("team")
        REGION = "region", _("region")

    scope = models.CharField(max_length=8, choices=Scope.choices)
    scope_id = models.BigIntegerField()
    period = models.DateField()
    weighted = models.DecimalField(max_digits=18, decimal_places=2)
    committed = models.DecimalField(max_digits=18, decimal_places=2)
    raised_at = models.DateTimeField()

    class Meta:
        verbose_name = _("forecast alert")
        verbose_name_plural = _("forecast alerts")
        constraints = [
            models.UniqueConstraint(fields=["scope", "scope_id", "period"], name="forecasting_alert_once")
        ]

    def __str__(self):
        return f"{self.scope} {self.scope_id} {self.period}"
