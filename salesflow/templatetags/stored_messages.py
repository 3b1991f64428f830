from django import template

from salesflow.i18n import render

register = template.Library()


@register.filter
def rendered(msg, fallback=""):
    """A stored message (salesflow.i18n) in the reader's language; legacy sentences as they are."""
    return render(msg, fallback=fallback or "")
