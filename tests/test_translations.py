"""The zh-hans catalogue is complete, current and compiled; stored messages read in each reader's language."""
import gettext
import re
from pathlib import Path

import pytest

from tests import po

LOCALE = Path(__file__).resolve().parents[1] / "locale" / "zh_Hans" / "LC_MESSAGES"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|\{[\w.]+\}")


@pytest.fixture(scope="module")
def entries():
    return po.read(LOCALE / "django.po")


def test_every_msgid_has_a_zh_hans_translation_and_none_is_fuzzy(entries):
    untranslated = [e.msgid for e in entries if not e.translated]
    fuzzy = [e.msgid for e in entries if e.fuzzy]
    assert untranslated == [] and fuzzy == []


def test_each_translation_keeps_the_placeholders_of_its_msgid(entries):
    broken = [
        e.msgid for e in entries
        if any(set(PLACEHOLDER.findall(text)) != set(PLACEHOLDER.findall(e.msgid)) for text in e.msgstr.values())
    ]
    assert broken == []


def test_the_compiled_catalogue_matches_the_po_file(entries):
    with open(LOCALE / "django.mo", "rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = []
    for e in entries:
        key = f"{e.msgctxt}\x04{e.msgid}" if e.msgctxt else e.msgid
        got = compiled.ngettext(key, e.msgid_plural, 1) if e.msgid_plural else compiled.gettext(key)
        if got != e.msgstr[0]:
            stale.append(e.msgid)
    assert stale == [], "run `manage.py compilemessages -l zh_Hans`"
