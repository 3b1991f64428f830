"""A per-process memo, per tenant, in front of the shared cache for small configuration that
hot paths read on every request (tenant settings, routing rules, scoring weights).

Each entry lives `seconds` in this process. The writer of a change forgets the entry here
and in the shared cache (`remembered_forget`); other processes pick the change up within
`seconds`. Keys carry the schema (here explicitly, in Redis through the cache's key
function), so one tenant's entry is never served to another. Redis being away never fails a
read: the loader answers instead.
"""
import time
from collections.abc import Callable
from typing import TypeVar

from django.core.cache import cache
from django.db import connection, transaction
from redis.exceptions import RedisError

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


def remembered(key: str, load: Callable[[], T], *, shared_seconds: int) -> T:
    """`load()`'s value: from this process's memo, else from Redis, else loaded and shared."""
    return memo_get(key, lambda: _shared_or_loaded(key, load, shared_seconds))


def remembered_forget(key: str) -> None:
    """Forget `key` here and in Redis (when Redis is away its copy expires on its own)."""
    memo_forget(key)
    try:
        cache.delete(key)
    except RedisError:
        pass


def _shared_or_loaded(key: str, load: Callable[[], T], shared_seconds: int) -> T:
    cached = shared_get(key)
    if cached is not None:
        return cached
    value = load()
    shared_set(key, value, shared_seconds)
    return value


def shared_get(key: str):
    """The value in Redis, or None when absent or when Redis cannot answer."""
    try:
        return cache.get(key)
    except RedisError:
        return None


def shared_set(key: str, value, seconds: int) -> None:
    try:
        cache.set(key, value, seconds)
    except RedisError:
        pass


def shared_claim(key: str, seconds: int) -> bool:
    """Claim `key` for `seconds`; True for the one caller that got it (and when Redis is away)."""
    try:
        return cache.add(key, 1, seconds)
    except RedisError:
        return True


def memo_clear() -> None:
    _entries.clear()


def memo_forget_tenant() -> None:
    """Forget everything remembered for the current tenant (after the database refused a stale copy)."""
    schema = connection.schema_name
    for slot in [slot for slot in _entries if slot[0] == schema]:
        _entries.pop(slot, None)


class MemoForgettingAdminMixin:
    """For admin pages whose changes feed an entry remembered here: forget `memo_keys` after commit."""

    memo_keys: tuple[str, ...] = ()

    def _memo_forget_after_commit(self):
        transaction.on_commit(self._memo_forget)

    def _memo_forget(self):
        for key in self.memo_keys:
            memo_forget(key)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        self._memo_forget_after_commit()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        self._memo_forget_after_commit()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        self._memo_forget_after_commit()

