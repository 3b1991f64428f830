from django import template

register = template.Library()


@register.filter
def get_item(mapping: dict, key):
    """`{{ options|get_item:o.stage_id }}`: a value rendered once per page, picked per row."""
    return mapping.get(key, "")
