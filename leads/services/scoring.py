from decimal import ROUND_HALF_UP, Decimal


from salesflow.memo import remembered, remembered_forget

from ..models import LeadPolicy

DEFAULT_GRADE_POINTS = {"A": 30, "B": 15, "C": 5}
DEFAULT_CHANNEL_POINTS = {"web_form": 10, "phone_400": 10, "referral": 12, "exhibition": 8, "api": 5, "ad_platform": 4, "wecom": 8, "csv": 2, "manual": 5}
DEFAULT_TIER_POINTS = {"tertiary_hospital": 20, "key_account": 18, "secondary_hospital": 12, "sme": 6, "township_clinic": 5}


POLICY_CACHE_KEY = "leads:policy"


def lead_policy_get() -> LeadPolicy:
    """The tenant's weights and pool timing, remembered in this process for a few seconds and cached
    per tenant in Redis; `lead_policy_forget` after changes."""
    return remembered(POLICY_CACHE_KEY, _lead_policy_load, shared_seconds=300)


def _lead_policy_load() -> LeadPolicy:
    policy, _ = LeadPolicy.objects.get_or_create(
        pk=1,
        defaults={"grade_points": DEFAULT_GRADE_POINTS, "channel_points": DEFAULT_CHANNEL_POINTS, "tier_points": DEFAULT_TIER_POINTS},
    )
    return policy


def lead_policy_forget() -> None:
    remembered_forget(POLICY_CACHE_KEY)


def lead_score(*, policy: LeadPolicy, industry_match: int | None, budget_grade: str, channel: str, tier: str) -> tuple[int, dict]:
    """The weighted score and its breakdown (each part's input and points)."""
    weight = Decimal(str(policy.industry_match_weight))  # a fresh row holds the float default
    match_points = int((Decimal(industry_match or 0) * weight).quantize(Decimal(1), ROUND_HALF_UP))
    parts = {
        "industry_match": {"value": industry_match, "weight": str(weight), "points": match_points},
        "budget_grade": {"value": budget_grade, "points": int(policy.grade_points.get(budget_grade, 0))},
        "channel": {"value": channel, "points": int(policy.channel_points.get(channel, 0))},
        "tier": {"value": tier, "points": int(policy.tier_points.get(tier, 0))},
    }
    total = sum(part["points"] for part in parts.values())
    return total, {"total": total, "parts": parts}
