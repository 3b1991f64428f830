import datetime as dt

import pytest
from django import forms
from django.utils import translation

from salesflow.fields import DateField, DateTimeField, LongTextField


class When(forms.Form):
    day = DateField(required=False)
    at = DateTimeField(required=False)
    note = LongTextField(max_length=10, required=False, widget=forms.Textarea)


@pytest.mark.parametrize("typed", ["2026-11-20", "2026/11/20", "2026年11月20日", "2026.11.20", " 2026-11-20 "])
def test_a_date_reads_iso_and_chinese_forms(typed):
    form = When({"day": typed})
    assert form.is_valid() and form.cleaned_data["day"] == dt.date(2026, 11, 20)


@pytest.mark.parametrize("typed", ["11/20/2026", "20/11/2026", "Nov 20 2026", "2026-02-30"])
def test_an_ambiguous_or_impossible_date_is_refused_quoting_it(typed):
    with translation.override("en"):
        form = When({"day": typed})
        assert not form.is_valid()
        assert form.errors["day"] == [f"“{typed}” is not a date we can read: write 2026-11-20, 2026/11/20 or 2026年11月20日."]


def test_a_date_time_reads_the_picker_and_typed_chinese_forms():
    assert When({"at": "2026-11-20T14:30"}).is_valid()
    assert When({"at": "2026年11月20日 14:30"}).is_valid()
    form = When({"at": "11/20/2026 2:30 PM"})
    assert not form.is_valid() and "“11/20/2026 2:30 PM”" in form.errors["at"][0]


def test_a_long_text_is_refused_once_with_both_lengths_and_never_cut_by_the_browser():
    form = When({"note": "长" * 12000})
    assert "maxlength" not in str(form["note"])
    with translation.override("zh-hans"):
        assert not form.is_valid()
        assert form.errors["note"] == ["这段文字有 12,000 个字符，最多只能保存 10 个。请删减，或把其余内容作为附件上传。"]


def test_a_date_typed_the_chinese_way_is_shown_back_in_the_pickers_form():
    form = When({"day": "2026年11月20日", "at": "2026/11/20 14:30"})
    assert 'value="2026-11-20"' in str(form["day"]) and 'value="2026-11-20T14:30"' in str(form["at"])
    assert 'value="11/20/2026"' in str(When({"day": "11/20/2026"})["day"])  # unreadable: kept as typed, with its error
