"""Tenant-managed vocabularies (SPEC §2): regions, industries, product lines, customer tiers and
channels, each value with a code, a zh-hans and an English label, and synonyms.

The stable API other code imports:
- `vocabulary_choices(kind)` → [(code, label in the current language)], active values in order
- `vocabulary_resolve(kind, raw)` → the code `raw` names (code, label or synonym), else None
- `vocabulary_label(kind, code)` → the label in the current language (the code when unknown)
- `vocabulary_codes(kind)` → the accepted codes (for "allowed: …" messages)
- `VocabularyChoiceField(kind)` / `VocabularyMultipleChoiceField(kind)` for Django forms
- template filter: `{% load vocabulary %}{{ lead.region|vocabulary_label:"region" }}`
"""
from ..models import VocabularyKind
from .fields import VocabularyChoiceField, VocabularyMultipleChoiceField, vocabulary_unknown_message
from .selectors import (
    spelling_key, vocabulary_choices, vocabulary_codes, vocabulary_forget, vocabulary_get, vocabulary_label,
    vocabulary_labels, vocabulary_resolve,
)
from .services import vocabulary_defaults_install, vocabulary_ensure, vocabulary_entry_problems

__all__ = [
    "VocabularyChoiceField", "VocabularyKind", "VocabularyMultipleChoiceField", "spelling_key",
    "vocabulary_choices", "vocabulary_codes", "vocabulary_defaults_install", "vocabulary_ensure",
    "vocabulary_entry_problems", "vocabulary_forget", "vocabulary_get", "vocabulary_label", "vocabulary_labels",
    "vocabulary_resolve", "vocabulary_unknown_message",
]
