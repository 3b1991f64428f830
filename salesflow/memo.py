"""A per-process memo, per tenant, in front of the shared cache for small configuration that
hot paths read on every request (tenant settings, routing rules, scoring weights).

Each entry lives `seconds` in this process. The writer of a change forgets the entry here
and in the shared cache; other processes pick the change up within `seconds`. Keys carry
the schema, so one tenant's entry is never served to another.
"""
import time
from collections.abc import Callable
from typing import TypeVar

from django.db import connection, transaction

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


class MemoForgettingAdminMixin:
    """For admin pages whose changes feed an entry remembered here: forget `memo_keys` after commit."""

    memo_keys: tuple[str, ...] = ()

    def _memo_forget_after_commit(self):
        transaction.on_commit(lambda: [memo_forget(key) for key in self.memo_keys])

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        self._memo_forget_after_commit()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        self._memo_forget_after_commit()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        self._memo_forget_after_commit()


def memo_forget_tenant() -> None:
    """Forget everything remembered for the current tenant (after the database refused a stale copy)."""
    schema = connection.schema_name
    for slot in [slot for slot in list(_entries) if slot[0] == schema]:
        _entries.pop(slot, None)
