"""The weekly reports: each sender (settings `SALESFLOW_WEEKLY_REPORT_SENDERS`, label → dotted path
of a function `(now) -> int`) sends what is due at its clock for the current tenant and
answers how many reports it newly sent. `run_weekly_reports` and beat both come here.
"""
import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.module_loading import import_string


# The labels SPEC §8 names in the summary line, in its order; one without a sender configured counts 0.
SUMMARY_LABELS = ("heatmaps", "health")


@dataclass(frozen=True)
class WeeklyReportsResult:
    schema: str
    counts: dict[str, int]

    def summary_line(self) -> str:
        labels = [*SUMMARY_LABELS, *(label for label in self.counts if label not in SUMMARY_LABELS)]
        parts = " ".join(f"{label}={self.counts.get(label, 0)}" for label in labels)
        return f"weekly reports {self.schema}: {parts}"


def weekly_reports_run(*, now: dt.datetime | None = None) -> WeeklyReportsResult:
    """Every sender once, for the tenant of the connection, at clock `now`."""
    now = now or timezone.now()
    counts = {label: import_string(dotted)(now) for label, dotted in settings.SALESFLOW_WEEKLY_REPORT_SENDERS.items()}
    return WeeklyReportsResult(schema=connection.schema_name, counts=counts)
