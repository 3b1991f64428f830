"""The canonical form every audit entry is hashed in.

Sorted keys, no whitespace, UTF-8, aware datetimes in UTC ISO-8601 with microseconds,
decimals and UUIDs as strings. The same value always yields the same bytes.

Numbers are written as PostgreSQL's jsonb gives them back, so an entry re-read from its
payload column hashes the same: jsonb keeps a number's decimal value but writes 1e+23 as
100000000000000000000000 (an integer to Python) and has no negative zero. Such floats are
written as the integer they equal, -0.0 as 0.0; NaN and infinities are not JSON and refused.
"""
import math
import datetime as dt
import hashlib
import json
import uuid
from decimal import Decimal


def _encode(value):
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError("audit datetimes must be timezone-aware")
        return value.astimezone(dt.timezone.utc).isoformat(timespec="microseconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (Decimal, uuid.UUID)):
        return str(value)
    if isinstance(value, (set, frozenset, tuple)):
        return sorted(value) if isinstance(value, (set, frozenset)) else list(value)
    raise TypeError(f"{type(value).__name__} cannot go into an audit entry")


def _jsonb_number(value: float):
    if not math.isfinite(value):
        raise ValueError(f"{value} cannot go into an audit entry (not a JSON number)")
    if value == 0:
        return 0.0
    if value.is_integer() and "e" in repr(value):
        return int(value)
    return value


def _numbers_as_jsonb(value):
    """The value with every float as jsonb will return it (see the module docstring)."""
    if isinstance(value, float):
        return _jsonb_number(value)
    if isinstance(value, dict):
        return {key: _numbers_as_jsonb(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_numbers_as_jsonb(item) for item in value]
    return value


def _dumps(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_encode, allow_nan=False)


def canonical_json(value) -> str:
    # Most values hold no float that jsonb would write otherwise (-0.0, or an integer written with
    # an exponent): then the text as dumped is already canonical, and the walk through every
    # value is spared. Where the text shows either ("-0.0", "e+", "e-": also when a string holds
    # them) or cannot be written, the value takes the walk.
    try:
        text = _dumps(value)
    except ValueError:
        text = None
    if text is not None and "-0.0" not in text and "e+" not in text and "e-" not in text:
        return text
    return _dumps(_numbers_as_jsonb(value))


def normalise(value):
    """The JSON-native value a payload becomes once stored (so re-reading it compares equal)."""
    return json.loads(canonical_json(value))


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
