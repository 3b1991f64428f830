"""Filters of the targets pages: `{% load targets_tags %}`."""
from decimal import Decimal

from django import template

from salesflow.org.vocabularies import vocabulary_label

from ..models_targets import TargetLevel

register = template.Library()


@register.filter
def percent(value) -> str:
    """0.4321 → "43%"; a dash for nothing."""
    if value is None or value == "":
        return "—"
    return f"{round(float(value) * 100)}%"


@register.filter
def points(value) -> str:
    """A deviation in percentage points with its sign: −8.5 → "−8.5"."""
    if value is None:
        return "—"
    return f"{float(value):+.1f}".replace("-", "−")


@register.filter
def node_label(node) -> str:
    """A node's name as the reader says it (a region through the region list's labels)."""
    level = node["level"] if isinstance(node, dict) else node.level
    name = node["name"] if isinstance(node, dict) else node.name
    return vocabulary_label("region", name) if level == TargetLevel.REGION else name


@register.filter
def line_label(code) -> str:
    return vocabulary_label("product_line", code) if code else ""


@register.filter
def absolute(value):
    return abs(Decimal(value)) if value is not None else None


@register.filter
def as_decimal(value):
    return Decimal(value) if value not in (None, "") else None


@register.filter
def level_label(level: str) -> str:
    return str(TargetLevel(level).label) if level in TargetLevel.values else level
