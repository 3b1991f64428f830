"""For data migrations (historical models passed in): the defaults, and every value records
already hold, so no stored region, industry, product line, tier or channel becomes unknown."""
from .defaults import default_entries_missing
from .selectors import spelling_key


def defaults_add(VocabularyEntry) -> None:
    VocabularyEntry.objects.bulk_create(
        default_entries_missing(VocabularyEntry, set(VocabularyEntry.objects.values_list("kind", "code"))))


def stored_values_add(VocabularyEntry, kind: str, values) -> None:
    """Add each stored value no entry of `kind` spells yet, as its own code and label."""
    entries = list(VocabularyEntry.objects.filter(kind=kind))
    known = {spelling_key(s) for e in entries for s in (e.code, e.label_zh, e.label_en, *e.synonyms)}
    position = max((e.position for e in entries), default=0)
    for value in sorted({v for v in values if v and v.strip()}):
        if spelling_key(value) in known or any(ch in value for ch in ";,\t\r\n"):
            continue
        position += 10
        VocabularyEntry.objects.create(kind=kind, code=value, label_zh=value, label_en=value, position=position)
        known.add(spelling_key(value))
