"""The canonical form every audit entry is hashed in.

Sorted keys, no whitespace, UTF-8, aware datetimes in UTC ISO-8601 with microseconds,
decimals and UUIDs as strings. The same value always yields the same bytes.
"""
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


def canonical_json(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_encode)


def normalise(value):
    """The JSON-native value a payload becomes once stored (so re-reading it compares equal)."""
    return json.loads(canonical_json(value))


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
