"""The weekly reports (SPEC §8 `run_weekly_reports`): every sender decides by the tenant's own
clock what is due at `now` and returns how many reports it newly sent.

Adding a weekly report is one line in WEEKLY_REPORT_SENDERS; the summary line names the labels of
SUMMARY_LABELS in SPEC order.
"""
import datetime as dt

from django.db import connection
from django.utils import timezone
from django.utils.module_loading import import_string

# (label, dotted path of `send(*, now) -> int`), run in this order for the current tenant.
WEEKLY_REPORT_SENDERS: list[tuple[str, str]] = [
    # Monday 08:00: each manager's action health (audit/health/report.py).
    ("health", "audit.health.report.send_due_health_reports"),
    # Friday 17:00: the target-deviation heatmap per manager (forecasting/services/heatmap.py).
    ("heatmaps", "forecasting.services.heatmap.send_due_heatmaps"),
]
SUMMARY_LABELS = ("heatmaps", "health")


def weekly_reports_run(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Run every sender for the current tenant; {label: reports newly sent}."""
    now = now or timezone.now()  # one clock for every sender of this run
    sent = dict.fromkeys(SUMMARY_LABELS, 0)
    for label, path in WEEKLY_REPORT_SENDERS:
        sent[label] = sent.get(label, 0) + import_string(path)(now=now)
    return sent


def summary_line(sent: dict[str, int], *, schema: str | None = None) -> str:
    counts = " ".join(f"{label}={sent.get(label, 0)}" for label in (*SUMMARY_LABELS, *(k for k in sent if k not in SUMMARY_LABELS)))
    return f"weekly reports {schema or connection.schema_name}: {counts}"
