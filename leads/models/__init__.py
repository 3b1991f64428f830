"""The leads app's models, one module per concern; imported from here."""
from .intake import IdempotencyRecord, ImportJob
from .keys import IntakeKey
from .lead import OPEN_STATUSES, BudgetGrade, Channel, Lead, LeadPolicy, LeadStatus, LeadTouch
from .load import PoolSeat, RepLoad, RosterVersion
from .pool import PoolClaim
from .routing import RoutingDecision, RoutingRule, Strategy

__all__ = [
    "OPEN_STATUSES", "BudgetGrade", "Channel", "IdempotencyRecord", "ImportJob", "IntakeKey", "Lead", "LeadPolicy",
    "LeadStatus", "LeadTouch", "PoolClaim", "PoolSeat", "RepLoad", "RosterVersion", "RoutingDecision", "RoutingRule", "Strategy",
]
