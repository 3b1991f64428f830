from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class WeeklyHealthReport(models.Model):
    """One manager's weekly health report, claimed before anything is sent.

    Unique on (manager, ISO year, ISO week): the report run inserts these with
    INSERT … ON CONFLICT DO NOTHING RETURNING in the transaction that also writes the
    in-app notification and the delivery outbox, so two runs at the same clock (beat and
    the command, or a redelivered task) send each report once, and a run that dies before
    commit leaves no claim behind.
    """

    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("manager")
    )
    iso_year = models.PositiveSmallIntegerField(_("ISO year"))
    iso_week = models.PositiveSmallIntegerField(_("ISO week"))
    claimed_at = models.DateTimeField(_("claimed at"))
    # The figures as sent (scope totals, reps below threshold, customers lacking key-person touches).
    figures = models.JSONField(_("figures"), default=dict, blank=True)

    class Meta:
        verbose_name = _("weekly health report")
        verbose_name_plural = _("weekly health reports")
        ordering = ["-iso_year", "-iso_week", "manager_id"]
        constraints = [
            models.UniqueConstraint(fields=["manager", "iso_year", "iso_week"], name="audit_health_report_once_per_week")
        ]

    def __str__(self):
        return f"{self.iso_year}-W{self.iso_week:02d} · {self.manager_id}"
