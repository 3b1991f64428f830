"""`{% load forecast_tags %}`: shares and signed shares as percentages."""
from django import template

register = template.Library()


@register.filter
def percent(value, places: int = 1):
    if value is None:
        return "—"
    return f"{float(value) * 100:.{int(places)}f}%"


@register.filter
def signed_percent(value, places: int = 1):
    if value is None:
        return "—"
    return f"{float(value) * 100:+.{int(places)}f}%"


@register.filter
def brier(value):
    return "—" if value is None else f"{float(value):.3f}"


@register.filter
def category_label(value):
    from forecasting.models_forecast import CommitCategory

    return CommitCategory(value or CommitCategory.PIPELINE).label
