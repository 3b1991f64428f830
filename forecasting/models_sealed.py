"""The week-end roll-up of frozen lines whose forecast week is over ("sealed"), read by the accuracy page.

An in-week line's outcome (won within its forecast week, GREATEST(close week, snapshot week)) is final
once that week is over, and its amount and weights are frozen: the sums the accuracy page needs per
(snapshot, close week, close month, frozen team, frozen region, credit band) can be added up once, when
the week ends, instead of joining every line to its outcome on each first read after a change.
Derived data, written only by `forecasting.sealing.weeks_seal`; never edited.
"""
from django.db import models
from django.utils.translation import gettext_lazy as _

from .models_forecast import ForecastSnapshot


class ExactSumField(models.DecimalField):
    """`numeric` without precision or scale: a sum of frozen amounts × float weights kept exactly, so the
    figures read from it equal those summed from the lines (a rounded column would move them)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_digits", 1000)
        kwargs.setdefault("decimal_places", 500)
        super().__init__(*args, **kwargs)

    def db_type(self, connection):
        return "numeric"


class SealedWeek(models.Model):
    """(snapshot, forecast week) whose lines are in `SealedLineSums`: the week was over when sealed."""

    snapshot = models.ForeignKey(ForecastSnapshot, on_delete=models.CASCADE, related_name="+")
    week = models.DateField()

    class Meta:
        verbose_name = _("sealed week")
        verbose_name_plural = _("sealed weeks")
        constraints = [models.UniqueConstraint(fields=["snapshot", "week"], name="forecasting_sealed_week_unique")]


class SealedLineSums(models.Model):
    """The in-week lines of one snapshot and forecast week `week`, grouped. `close_week`/`close_month` are
    the line's close week and month when the close week is not before the snapshot's week, else NULL
    (overdue lines: they only count in calibration, and grouping them under one key keeps the table small).
    Σ amount × weight and Σ commit amount over all lines; the Brier terms Σw², Σw·won per weight; the
    fitted stage's over the lines that have it (`fit_lines`)."""

    snapshot = models.ForeignKey(ForecastSnapshot, on_delete=models.CASCADE, related_name="+")
    week = models.DateField()
    close_week = models.DateField(null=True)
    close_month = models.DateField(null=True)
    team_id = models.BigIntegerField(null=True)
    region_id = models.BigIntegerField(null=True)
    band = models.SmallIntegerField()
    lines = models.IntegerField()
    won = models.IntegerField()
    credit_amount = ExactSumField()
    stage_amount = ExactSumField()
    fit_amount = ExactSumField(null=True)
    commit_amount = ExactSumField()
    credit_w = ExactSumField()
    credit_w2 = ExactSumField()
    credit_w_won = ExactSumField()
    stage_w2 = ExactSumField()
    stage_w_won = ExactSumField()
    fit_lines = models.IntegerField()
    fit_won = models.IntegerField()
    fit_w2 = ExactSumField(null=True)
    fit_w_won = ExactSumField(null=True)

    class Meta:
        verbose_name = _("sealed line sums")
        verbose_name_plural = _("sealed line sums")
        indexes = [models.Index(fields=["snapshot", "close_week"], name="forecasting_sealed_close")]
