"""Template filters for numbers, amounts, durations and times: `{% load sf_format %}`.

Every template shows these through here so a page never prints a raw 12000000 or a
browser-zone time; the rules themselves live in salesflow/formatting.py.
"""
from django import template
from django.utils import timezone
from django.utils.html import format_html

from salesflow import formatting

register = template.Library()


@register.filter
def amount(value):
    """12000000 → "12,000,000"."""
    return formatting.format_amount(value)


@register.filter
def amount_compact(value):
    """Where room is short: "1,200万" / "3.2亿" on a Chinese page, "12M" in English; the full amount in the tooltip."""
    if value is None or value == "":
        return "—"
    return format_html('<span class="amount" title="{}">{}</span>', formatting.format_amount(value),
                       formatting.format_amount_compact(value))


@register.filter
def amount_short(value):
    """At a glance: "1,200万" on a Chinese page, the full amount elsewhere; the full amount in the tooltip."""
    if value is None or value == "":
        return "—"
    return format_html('<span class="amount" title="{}">{}</span>', formatting.format_amount(value),
                       formatting.format_amount_short(value))


@register.filter
def duration(seconds):
    """Seconds (or a timedelta) → "3 小时 5 分钟"."""
    return formatting.format_duration(seconds)


@register.filter
def elapsed(start, end=None):
    """The time from `start` to `end` (default: now) as "3 小时 5 分钟"; a dash without a start."""
    if not start:
        return "—"
    return formatting.format_duration(((end or timezone.now()) - start).total_seconds())


@register.filter
def when(value, style="long"):
    """A date-time in the tenant's zone and the reader's language: short, long, full, date, time, seconds."""
    return formatting.format_datetime(value, style)
