"""What a new tenant starts with: an intake key, the seeds' routing rules and scoring weights."""
from decimal import Decimal

from django.db import transaction

from audit.services import audit_record

from ..models import RoutingRule, Strategy
from .keys import intake_key_create
from .routing import rules_forget
from .scoring import lead_policy_get

# From the seeds: tier rules first (they are more specific), then the grade rules. Names are
# tenant data a Chinese sales team reads (admins rename them); the strategy is shown beside them
# in the reader's language.
DEFAULT_RULES = [
    {"name": "三甲医院 → 大客户通道", "position": 10, "tiers": ["tertiary_hospital"], "pool_label": "大客户通道",
     "min_years_experience": 5, "match_lead_industry": True, "strategy": Strategy.LEAST_LOADED},
    {"name": "乡镇卫生院 → 普惠通道", "position": 20, "tiers": ["township_clinic"], "pool_label": "普惠通道",
     "new_hires_only": True, "strategy": Strategy.ROUND_ROBIN},
    {"name": "A 级 → 高成交率销售", "position": 30, "budget_grades": ["A"], "pool_label": "高成交率销售",
     "strategy": Strategy.TOP_PERFORMER, "min_close_rate": Decimal("0.850")},
    {"name": "B 级 → 区域+产品线轮询", "position": 40, "budget_grades": ["B"], "pool_label": "区域+产品线",
     "match_lead_region": True, "match_lead_product_line": True, "strategy": Strategy.ROUND_ROBIN},
    {"name": "C 级 → 公海", "position": 50, "budget_grades": ["C"], "strategy": Strategy.PUBLIC_POOL},
]


def routing_defaults_install(*, actor) -> int:
    created = 0
    with transaction.atomic():
        lead_policy_get()
        if not RoutingRule.objects.exists():
            for spec in DEFAULT_RULES:
                RoutingRule.objects.create(**spec)
                created += 1
            transaction.on_commit(rules_forget)
            audit_record(actor=actor, verb="routing_rules.defaults_installed", target_type="leads.routingrule",
                         payload={"rules": [spec["name"] for spec in DEFAULT_RULES]})
    return created


def defaults_install(*, actor) -> dict[str, str]:
    """Provisioning hook: every new tenant starts with one intake key and the default routing."""
    routing_defaults_install(actor=actor)
    _, secret = intake_key_create(actor=actor, label="default")
    return {"intake key": secret}
