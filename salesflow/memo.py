"""A per-process memo, per tenant, in front of the shared cache for small configuration that
hot paths read on every request (tenant settings, routing rules, scoring weights).

Each entry lives `seconds` in this process. The writer of a change forgets the entry here
and in the shared cache; other processes pick the change up within `seconds`. Keys carry
the schema, so one tenant's entry is never served to another.
"""
import time
from collections.abc import Callable
from typing import TypeVar

from django.db import connection

T = TypeVar("T")
DEFAULT_SECONDS = 5.0
_entries: dict[tuple[str, str], tuple[float, object]] = {}


def memo_get(key: str, load: Callable[[], T], *, seconds: float = DEFAULT_SECONDS) -> T:
    slot = (connection.schema_name, key)
    now = time.monotonic()
    entry = _entries.get(slot)
    if entry is not None and entry[0] > now:
        return entry[1]
    value = load()
    _entries[slot] = (now + seconds, value)
    return value


def memo_forget(key: str) -> None:
    _entries.pop((connection.schema_name, key), None)


def memo_clear() -> None:
    _entries.clear()
