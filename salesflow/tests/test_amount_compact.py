"""Compact amounts for chart axes and heatmap cells: 万 / 亿 in Chinese, K / M / B in English."""
import pytest

from salesflow.formatting import format_amount_compact


@pytest.mark.parametrize("value, zh, en", [
    (0, "0", "0"),
    (9_500, "9,500", "9.5K"),
    (90_000_000, "9,000万", "90M"),
    (12_005_000, "1,200.5万", "12M"),
    (320_000_000, "3.2亿", "320M"),
    (1_234_567_890, "12.35亿", "1.2B"),
    (-50_000, "-5万", "-50K"),
])
def test_compact_amounts_in_both_languages(value, zh, en):
    assert format_amount_compact(value, language="zh-hans") == zh
    assert format_amount_compact(value, language="en") == en


def test_unreadable_is_given_back():
    assert format_amount_compact("n/a", language="en") == "n/a" and format_amount_compact(None) == ""
