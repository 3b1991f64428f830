"""Lead services, split by sub-area; the names other code uses are re-exported here."""
from .actions import LeadStateConflict, lead_accept, lead_close, lead_merge, lead_reassign, lead_touch_record
from .bulk import BULK_LIMIT, BulkOutcome, leads_bulk_claim, leads_bulk_reassign
from .defaults import defaults_install, routing_defaults_install
from .claim import IntakeKeyRevoked
from .intake import IdempotencyMismatch, IntakeResult, lead_intake
from .keys import intake_key_authenticate, intake_key_create, intake_key_revoke, intake_key_rotate
from .pool import ClaimRefused, lead_claim, pool_release_expired
from .decide import lead_route
from .routing import routing_plan, rules_active
from .scoring import lead_policy_get, lead_score
from .validation import lead_payload_validate

__all__ = [
    "BULK_LIMIT", "BulkOutcome", "leads_bulk_claim", "leads_bulk_reassign",
    "ClaimRefused", "IdempotencyMismatch", "IntakeKeyRevoked", "IntakeResult", "LeadStateConflict", "defaults_install",
    "intake_key_authenticate", "intake_key_create", "intake_key_revoke", "intake_key_rotate", "lead_accept",
    "lead_claim", "lead_close", "lead_intake", "lead_merge", "lead_payload_validate", "lead_policy_get",
    "lead_reassign", "lead_route", "lead_score", "lead_touch_record", "pool_release_expired",
    "routing_defaults_install", "routing_plan", "rules_active",
]
