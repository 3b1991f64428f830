import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest
from django.utils import timezone, translation

from salesflow.formatting import format_amount, format_amount_short, format_datetime, format_duration


@pytest.fixture
def zh():
    with translation.override("zh-hans"):
        yield


@pytest.fixture
def en():
    with translation.override("en"):
        yield


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (2843, "47 分钟"),
        (3 * 3600 + 5 * 60 + 59, "3 小时 5 分钟"),
        (2 * 86400 + 4 * 3600 + 30 * 60, "2 天 4 小时"),
        (566 * 3600, "23 天 14 小时"),
        (3600, "1 小时"),
        (86400 + 120, "1 天"),
        (42, "42 秒"),
        (-2843, "47 分钟"),
    ],
)
def test_a_duration_reads_in_chinese_units(zh, seconds, expected):
    assert format_duration(seconds) == expected


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(2843, "47 minutes"), (3 * 3600 + 60, "3 hours 1 minute"), (2 * 86400 + 4 * 3600, "2 days 4 hours"), (1, "1 second")],
)
def test_a_duration_reads_in_english_units_with_plurals(en, seconds, expected):
    assert format_duration(seconds) == expected


def test_a_duration_accepts_a_timedelta_and_none(zh):
    assert format_duration(dt.timedelta(hours=2)) == "2 小时"
    assert format_duration(None) == "—"


@pytest.mark.parametrize(
    ("value", "expected"),
    [(12000000, "12,000,000"), (Decimal("1234567.40"), "1,234,567"), ("999", "999"), (None, ""), ("n/a", "n/a")],
)
def test_an_amount_has_thousands_separators(value, expected):
    assert format_amount(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(12000000, "1,200万"), (12005000, "1,200.5万"), (Decimal("85000"), "8.5万"), (9500, "9,500"), (120000000000, "12,000,000万")],
)
def test_a_chinese_page_shows_large_amounts_in_wan(value, expected):
    assert format_amount_short(value, language="zh-hans") == expected


def test_an_english_page_shows_the_full_amount():
    assert format_amount_short(12000000, language="en") == "12,000,000"


def test_a_time_reads_in_the_active_zone_and_language():
    moment = dt.datetime(2026, 11, 20, 2, 30, tzinfo=dt.timezone.utc)
    with timezone.override(zoneinfo.ZoneInfo("Asia/Shanghai")):
        with translation.override("zh-hans"):
            assert format_datetime(moment, "long") == "2026-11-20 10:30"
            assert format_datetime(moment, "short") == "11-20 10:30"
        with translation.override("en"):
            assert format_datetime(moment, "long") == "Nov 20, 2026, 10:30"
            assert format_datetime(dt.date(2026, 11, 20), "short") == "Nov 20, 2026"
