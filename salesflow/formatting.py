"""How numbers, amounts, durations and times read to a person, in the active language.

One place for these conventions so templates (salesflow/templatetags/sf_format.py),
stored-message rendering and e-mails all say "3 小时 5 分钟" or "1,200万" the same way.
"""
import datetime as dt
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.translation import get_language, ngettext

MINUTE, HOUR, DAY = 60, 3600, 86400
WAN = Decimal(10_000)


def _is_chinese(language: str | None = None) -> bool:
    return (language or get_language() or "").lower().startswith("zh")


def _units(count: int, unit: str) -> str:
    if unit == "day":
        return ngettext("%(n)d day", "%(n)d days", count) % {"n": count}
    if unit == "hour":
        return ngettext("%(n)d hour", "%(n)d hours", count) % {"n": count}
    if unit == "minute":
        return ngettext("%(n)d minute", "%(n)d minutes", count) % {"n": count}
    return ngettext("%(n)d second", "%(n)d seconds", count) % {"n": count}


def format_duration(seconds: float | int | dt.timedelta | None) -> str:
    """A span of time as people say it: "47 分钟", "3 小时 5 分钟", "2 天 4 小时".

    The two largest units, the smaller one cut (not rounded) so a duration never reads
    longer than it was; seconds only under a minute. The sign is dropped: callers say
    "late by" or "ago" themselves. None reads as a dash.
    """
    if seconds is None:
        return "—"
    if isinstance(seconds, dt.timedelta):
        seconds = seconds.total_seconds()
    total = int(abs(seconds))
    if total < MINUTE:
        return _units(total, "second")
    days, rest = divmod(total, DAY)
    hours, rest = divmod(rest, HOUR)
    minutes = rest // MINUTE
    parts = [(days, "day"), (hours, "hour"), (minutes, "minute")]
    while parts and parts[0][0] == 0:
        parts.pop(0)
    shown = [_units(count, unit) for count, unit in parts[:2] if count]
    return " ".join(shown)


def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _grouped(value: Decimal, places: int) -> str:
    quantum = Decimal(1).scaleb(-places)
    rounded = value.quantize(quantum, rounding=ROUND_HALF_UP)
    text = f"{rounded:,.{places}f}"
    if places and "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def format_amount(value, *, places: int = 0) -> str:
    """An amount with thousands separators: 12000000 → "12,000,000". Unreadable → as given."""
    number = _decimal(value)
    if number is None:
        return "" if value is None else str(value)
    return _grouped(number, places)


def format_amount_short(value, *, language: str | None = None) -> str:
    """An amount as a Chinese page shows it at a glance: 12000000 → "1,200万",
    12005000 → "1,200.5万" (one decimal, trailing zero dropped); under 10,000 in full.
    Other languages get the full amount with separators."""
    number = _decimal(value)
    if number is None:
        return "" if value is None else str(value)
    if not _is_chinese(language) or abs(number) < WAN:
        return _grouped(number, 0)
    return f"{_grouped(number / WAN, 1)}万"


YI = Decimal(100_000_000)
COMPACT_EN = ((Decimal(1_000_000_000), "B"), (Decimal(1_000_000), "M"), (Decimal(1_000), "K"))


def format_amount_compact(value, *, language: str | None = None) -> str:
    """An amount where room is short (chart axes, heatmap cells): 万, and 亿 from a hundred million, on a
    Chinese page (320000000 → "3.2亿", 12000000 → "1,200万"); K / M / B in English (12000000 → "12M")."""
    number = _decimal(value)
    if number is None:
        return "" if value is None else str(value)
    if _is_chinese(language):
        if abs(number) >= YI:
            return f"{_grouped(number / YI, 2)}亿"
        return format_amount_short(number, language=language)
    for size, suffix in COMPACT_EN:
        if abs(number) >= size:
            return f"{_grouped(number / size, 1)}{suffix}"
    return _grouped(number, 0)


# Per language: how a date-time reads in a list (short), on a record (long), a bare date, a time.
DATETIME_STYLES = {
    "zh": {"short": "m-d H:i", "long": "Y-m-d H:i", "date": "Y-m-d", "time": "H:i", "seconds": "m-d H:i:s", "full": "Y-m-d H:i:s"},
    "en": {"short": "M j, H:i", "long": "M j, Y, H:i", "date": "M j, Y", "time": "H:i", "seconds": "M j, H:i:s", "full": "M j, Y, H:i:s"},
}


def format_datetime(value, style: str = "long") -> str:
    """A date or date-time in the active zone (the tenant's, set per request) and the
    reader's language. Styles: short (lists), long (records), full (with seconds), date, time, seconds."""
    if value in (None, ""):
        return ""
    if isinstance(value, dt.datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    styles = DATETIME_STYLES["zh" if _is_chinese() else "en"]
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime) and style not in ("date",):
        style = "date"
    return date_format(value, styles.get(style, styles["long"]))
