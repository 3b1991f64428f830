"""How a person's place in the organisation reads: `{% load org_tags %}`.

A manager who directs regions is a regional director, shown with those regions rather
than an empty team. Expects `directed_region_names` on the member (member_list annotates it).
"""
from django import template
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from salesflow.org.models import Role
from salesflow.org.vocabularies.selectors import vocabulary_label

register = template.Library()


def _directed(member) -> list[str]:
    return list(getattr(member, "directed_region_names", None) or [])


@register.filter
def role_title(member) -> str:
    if member is None:
        return ""
    if member.role == Role.MANAGER and _directed(member):
        return _("Regional director")
    return member.get_role_display()


@register.filter
def org_place(member) -> str:
    """Their team; for a regional director the regions they direct; else their region; else a dash."""
    if member is None:
        return "—"
    directed = _directed(member)
    if member.role == Role.MANAGER and directed:
        separator = "、" if (get_language() or "").startswith("zh") else ", "
        return separator.join(vocabulary_label("region", name) for name in directed)
    if member.team_id:
        return member.team.name
    if member.region_id:
        return vocabulary_label("region", member.region.name)
    return "—"
