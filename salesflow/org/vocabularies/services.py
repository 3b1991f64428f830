"""Writing the vocabularies: defaults for a new tenant, values a roster brings, checks on an entry."""
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from audit.services import audit_record

from ..models import VOCABULARY_CODE_LENGTH, VocabularyEntry
from .defaults import SYSTEM_CHANNELS, default_entries_missing
from .selectors import spelling_key, vocabulary_forget

FORBIDDEN_CHARACTERS = (";", ",", "\n", "\r", "\t")


def vocabulary_defaults_install(*, actor) -> dict[str, str]:
    """Provisioning hook (and seed_demo): add every default value the tenant lacks; nothing is changed."""
    with transaction.atomic():
        new = default_entries_missing(VocabularyEntry, set(VocabularyEntry.objects.values_list("kind", "code")))
        VocabularyEntry.objects.bulk_create(new)
        if new:
            audit_record(actor=actor, verb="vocabulary.defaults_installed", target_type="org.vocabularyentry",
                         payload={"added": sorted(f"{e.kind}:{e.code}" for e in new)})
            transaction.on_commit(vocabulary_forget)
    return {}


def vocabulary_ensure(*, actor, kind: str, values: Iterable[str], reason: str = "") -> dict[str, str]:
    """The canonical code for each of `values`; a value no entry knows is added as a new entry
    (its own code and label). Inactive values are matched, not duplicated."""
    wanted = [value for value in values if value and value.strip()]
    if not wanted:
        return {}
    with transaction.atomic():
        entries = list(VocabularyEntry.objects.select_for_update().filter(kind=kind))
        known = {}
        for entry in entries:
            for spelling in entry.spellings():
                known.setdefault(spelling_key(spelling), entry.code)
        position = max((e.position for e in entries), default=0)
        codes, added = {}, []
        for value in wanted:
            key = spelling_key(value)
            if key not in known:
                code = " ".join(value.split())
                position += 10
                VocabularyEntry.objects.create(kind=kind, code=code, label_zh=code, label_en=code, position=position)
                known[key] = code
                added.append(code)
            codes[value] = known[key]
        if added:
            audit_record(actor=actor, verb="vocabulary.values_added", target_type="org.vocabularyentry",
                         payload={"kind": kind, "added": added}, reason=reason)
            transaction.on_commit(vocabulary_forget)
    return codes


def vocabulary_entry_problems(entry: VocabularyEntry) -> dict[str, list[str]]:
    """What is wrong with `entry` as it stands (not saved yet), field by field."""
    problems: dict[str, list[str]] = {}
    limit = VOCABULARY_CODE_LENGTH.get(entry.kind)
    if limit and len(entry.code) > limit:
        problems.setdefault("code", []).append(
            _("A code of this list may have at most %(n)d characters.") % {"n": limit})
    for name, texts in (("code", [entry.code]), ("label_zh", [entry.label_zh]), ("label_en", [entry.label_en]),
                        ("synonyms", entry.synonyms)):
        if any(ch in text for text in texts for ch in FORBIDDEN_CHARACTERS):
            problems.setdefault(name, []).append(_("Commas, semicolons, tabs and line breaks are not allowed here."))
    if entry.kind == "channel" and entry.code in SYSTEM_CHANNELS and not entry.active:
        problems.setdefault("active", []).append(_("SalesFlow itself assigns this channel: it stays active."))
    others = VocabularyEntry.objects.filter(kind=entry.kind).exclude(pk=entry.pk)
    taken = {spelling_key(spelling): other.code for other in others for spelling in other.spellings()}
    for name, texts in (("code", [entry.code]), ("label_zh", [entry.label_zh]), ("label_en", [entry.label_en]),
                        ("synonyms", entry.synonyms)):
        for text in texts:
            owner = taken.get(spelling_key(text))
            if owner is not None:
                problems.setdefault(name, []).append(
                    _("“%(text)s” already stands for %(code)s in this list.") % {"text": text, "code": owner})
    return problems

