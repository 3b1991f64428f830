from django import template

from audit.labels import actor_label as _actor_label
from audit.labels import verb_label as _verb_label

register = template.Library()


@register.filter
def verb_label(verb: str) -> str:
    return _verb_label(verb)


@register.filter
def actor_label(label: str) -> str:
    return _actor_label(label)
