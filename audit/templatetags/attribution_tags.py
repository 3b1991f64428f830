"""Numbers of the attribution page: shares as whole percents, intervals, odds ratios, p-values."""
from django import template

from audit.attribution.presentation import dimension_kind

register = template.Library()


@register.filter
def percent(value) -> str:
    if value is None:
        return "—"
    return f"{value * 100:.0f}%"


@register.filter
def interval(value) -> str:
    """A Wilson interval as "61–81%"."""
    if value is None:
        return ""
    return f"{value.low * 100:.0f}–{value.high * 100:.0f}%"


@register.filter
def ratio(value) -> str:
    if value is None:
        return "—"
    if value >= 100:
        return f"{value:.0f}"
    return f"{value:.2f}"


@register.filter
def p_value(value) -> str:
    if value is None:
        return "—"
    if value < 0.001:
        return "<0.001"
    return f"{value:.3f}"


@register.filter
def signed_points(value) -> str:
    """A separation (−1 … 1) as signed percentage points: "+34" / "−12"."""
    points = round(value * 100)
    if points > 0:
        return f"+{points}"
    if points < 0:
        return f"−{-points}"
    return "0"


@register.filter
def trait_kind(dimension: str) -> str:
    return dimension_kind(dimension)
