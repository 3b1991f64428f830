"""Writes of the follow-ups area. Split by sub-area; the names below are the public surface."""
from .conversion import lead_convert
from .defaults import defaults_install
from .records import (
    account_create,
    contact_create,
    followup_correct,
    followup_from_template,
    followup_log,
    opportunity_create,
    opportunity_stage_change,
    task_complete,
    visit_log,
)
from .sla import ScanResult, sla_scan

__all__ = [
    "ScanResult",
    "account_create",
    "contact_create",
    "defaults_install",
    "followup_correct",
    "followup_from_template",
    "followup_log",
    "lead_convert",
    "opportunity_create",
    "opportunity_stage_change",
    "sla_scan",
    "task_complete",
    "visit_log",
]
