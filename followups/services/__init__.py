"""Writes of the follow-ups area. Split by sub-area; the names below are the public surface."""
from .bulk import opportunities_bulk_reassign
from .conversion import lead_convert
from .defaults import defaults_install
from .editing import (
    account_reassign,
    account_update,
    contact_update,
    opportunity_open,
    opportunity_reassign,
    opportunity_update,
)
from .records import (
    account_create,
    contact_create,
    followup_correct,
    followup_from_template,
    followup_log,
    opportunity_create,
    opportunity_seed,
    opportunity_stage_change,
    task_complete,
    visit_log,
)
from .sla import ScanResult, sla_scan

__all__ = [
    "ScanResult",
    "account_create",
    "account_reassign",
    "account_update",
    "contact_update",
    "opportunities_bulk_reassign",
    "opportunity_open",
    "opportunity_reassign",
    "opportunity_update",
    "contact_create",
    "defaults_install",
    "followup_correct",
    "followup_from_template",
    "followup_log",
    "lead_convert",
    "opportunity_create",
    "opportunity_seed",
    "opportunity_stage_change",
    "sla_scan",
    "task_complete",
    "visit_log",
]
