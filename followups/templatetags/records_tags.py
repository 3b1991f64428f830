from decimal import Decimal, InvalidOperation

from django import template

register = template.Library()


@register.filter
def money(value) -> str:
    """¥1,234,567: whole yuan with thousands separators, whatever the locale's grouping."""
    try:
        return f"¥{Decimal(value):,.0f}"
    except (InvalidOperation, TypeError, ValueError):
        return "—"


@register.filter
def get_item(mapping: dict, key):
    return mapping.get(key, "")
