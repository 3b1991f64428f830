from django import template

from salesflow.org.vocabularies import vocabulary_label, vocabulary_labels

register = template.Library()


@register.filter(name="vocabulary_label")
def vocabulary_label_filter(code, kind: str) -> str:
    """`{{ lead.region|vocabulary_label:"region" }}`: the value's label in the reader's language."""
    return vocabulary_label(kind, code or "")


@register.filter(name="vocabulary_labels")
def vocabulary_labels_filter(codes, kind: str) -> str:
    """`{{ member.industries|vocabulary_labels:"industry" }}`: labels joined with “、”."""
    return "、".join(vocabulary_labels(kind, codes))
