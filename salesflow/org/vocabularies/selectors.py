"""Reading the tenant's vocabularies: one query for every list, remembered per tenant
(salesflow.memo) and forgotten by whatever changes an entry (`vocabulary_forget`)."""
import unicodedata
from typing import NamedTuple

from django.utils import translation

from salesflow.memo import remembered, remembered_forget

from ..models import VocabularyEntry

VOCABULARY_MEMO_KEY = "org:vocabularies"


class VocabularyValue(NamedTuple):
    code: str
    label_zh: str
    label_en: str
    active: bool

    def label(self, language: str | None = None) -> str:
        language = language or translation.get_language() or ""
        first, second = (self.label_zh, self.label_en) if language.startswith("zh") else (self.label_en, self.label_zh)
        return first or second or self.code


class Vocabulary(NamedTuple):
    values: tuple[VocabularyValue, ...]  # in the admin's order
    by_code: dict[str, VocabularyValue]
    index: dict[str, str]  # spelling key → code, active values only


def spelling_key(text: str) -> str:
    """What two spellings of one value have in common: width (全角), case and spaces do not count."""
    return " ".join(unicodedata.normalize("NFKC", text or "").casefold().split())


def _build(entries: list[VocabularyEntry]) -> Vocabulary:
    values = tuple(VocabularyValue(e.code, e.label_zh, e.label_en, e.active) for e in entries)
    index: dict[str, str] = {}
    active = [e for e in entries if e.active]
    # A code beats another value's label, a label beats another value's synonym.
    for pick in (lambda e: [e.code], lambda e: [e.label_zh, e.label_en], lambda e: e.synonyms):
        for entry in active:
            for spelling in pick(entry):
                key = spelling_key(spelling)
                if key:
                    index.setdefault(key, entry.code)
    return Vocabulary(values=values, by_code={v.code: v for v in values}, index=index)


def _load() -> dict[str, Vocabulary]:
    by_kind: dict[str, list[VocabularyEntry]] = {}
    for entry in VocabularyEntry.objects.order_by("kind", "position", "code"):
        by_kind.setdefault(entry.kind, []).append(entry)
    return {kind: _build(entries) for kind, entries in by_kind.items()}


_EMPTY = Vocabulary(values=(), by_code={}, index={})


def vocabulary_get(kind: str) -> Vocabulary:
    """The current tenant's list of `kind` (remembered for seconds in this process, minutes in Redis)."""
    return remembered(VOCABULARY_MEMO_KEY, _load, shared_seconds=300).get(kind, _EMPTY)


def vocabulary_forget() -> None:
    remembered_forget(VOCABULARY_MEMO_KEY)


def vocabulary_choices(kind: str, *, keep: str | list[str] | tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """(code, label in the current language) of every active value, in the admin's order.

    `keep`: codes a record already holds, offered even when inactive or unknown so editing the
    record does not silently drop them."""
    vocabulary = vocabulary_get(kind)
    keep = [keep] if isinstance(keep, str) else list(keep)
    choices = [(v.code, v.label()) for v in vocabulary.values if v.active or v.code in keep]
    offered = {code for code, _ in choices}
    choices += [(code, vocabulary_label(kind, code)) for code in keep if code and code not in offered]
    return choices


def vocabulary_codes(kind: str) -> list[str]:
    """The codes currently accepted, in order: what an error message names as allowed."""
    return [v.code for v in vocabulary_get(kind).values if v.active]


def vocabulary_resolve(kind: str, raw) -> str | None:
    """The canonical code `raw` stands for (its code, a label or a synonym; case, width and
    surrounding spaces ignored), or None when it names no active value."""
    if not isinstance(raw, str):
        return None
    return vocabulary_get(kind).index.get(spelling_key(raw))


def vocabulary_label(kind: str, code: str, *, language: str | None = None) -> str:
    """The value's label in the current (or given) language; the text itself when unknown.
    A record written before the lists existed may hold a synonym: it shows its value's label."""
    if not code:
        return ""
    vocabulary = vocabulary_get(kind)
    value = vocabulary.by_code.get(code) or vocabulary.by_code.get(vocabulary.index.get(spelling_key(code), ""))
    return value.label(language) if value else code


def vocabulary_labels(kind: str, codes, *, language: str | None = None) -> list[str]:
    return [vocabulary_label(kind, code, language=language) for code in codes or ()]
