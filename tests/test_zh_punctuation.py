"""Chinese strings of the catalogue use full-width punctuation next to Chinese text (，：；（）？), and form
labels end in "：" on zh pages. Half-width stays where it is literal input or a formula: a separator the
user types, an address, a mathematical expression."""
import re
from pathlib import Path

from django import forms
from django.utils import translation

from tests.po import read

CATALOGUE = Path(__file__).resolve().parent.parent / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
CJK = re.compile(r"[\u4e00-\u9fff]")
PLACEHOLDER = re.compile(r"%\([a-z_0-9]+\)[sd]|%[sd]|https?://\S+|\{[^}]*\}|<[^>]+>")
# Literal input formats and formulas, reviewed: half-width on purpose.
LITERAL = (re.compile(r"\d, \d"), re.compile(r"华东, East China"), re.compile(r"用 ; 分隔"),
           re.compile(r"t=<[^>]*>,v1="), re.compile(r"\([^()]*[+−×][^()]*\)"), re.compile(r"“record verified: [^”]*”"))


def _half_width_beside_chinese(text: str) -> list[str]:
    text = PLACEHOLDER.sub("X", text)
    for literal in LITERAL:
        text = literal.sub("", text)
    return [m.group(0) for m in re.finditer(r"[\u4e00-\u9fff][,:;?()]|[,:;?(][\u4e00-\u9fff]", text)]


def test_chinese_strings_use_full_width_punctuation_beside_chinese():
    offenders = []
    for entry in read(CATALOGUE):
        for text in entry.msgstr.values():
            if text and CJK.search(text) and _half_width_beside_chinese(text):
                offenders.append((entry.msgid, text))
    assert offenders == []


def test_the_checker_catches_a_half_width_comma_and_colon():
    assert _half_width_beside_chinese("商机,客户") and _half_width_beside_chinese("阶段:初次接触")
    assert _half_width_beside_chinese("说明(可选)")


def test_form_labels_end_in_a_full_width_colon_on_zh_pages():
    class Form(forms.Form):
        region = forms.CharField(label="大区")

    with translation.override("zh-hans"):
        assert "大区：</label>" in str(Form()["region"].label_tag())
    with translation.override("en"):
        assert "大区:</label>" in str(Form()["region"].label_tag())
