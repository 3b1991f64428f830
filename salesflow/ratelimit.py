"""Fixed-window counters in Redis: INCR and EXPIRE in one Lua script, atomic on the server and
one round trip, so concurrent requests never lose a count. Keys carry the tenant's schema.
When Redis is down every limit stays open (logged): locking every customer and rep out for the
length of an outage would cost more than a few minutes without a limit."""
import logging
import time

import redis
from django.conf import settings
from django.db import connection

logger = logging.getLogger(__name__)
WINDOW_SECONDS = 60
COUNT_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""
_client = None
_count = None


def _redis():
    global _client, _count
    if _client is None:
        _client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=0.5, socket_timeout=0.5)
        _count = _client.register_script(COUNT_SCRIPT)
    return _client, _count


def _key(bucket: str, window: int, index: int) -> str:
    prefix = settings.CACHES["default"].get("KEY_PREFIX", "sf")
    return f"{prefix}:rl:{connection.schema_name}:{bucket}:{window}:{index}"


def _retry_after(now: float, window: int, index: int) -> int:
    return max(1, int((index + 1) * window - now + 0.999))


def rate_limit_hit(*, bucket: str, limit: int, window: int = WINDOW_SECONDS, now: float | None = None) -> int | None:
    """Count one request; None when allowed, else the seconds until the window reopens."""
    now = time.time() if now is None else now
    index = int(now // window)
    try:
        count = _redis()[1](keys=[_key(bucket, window, index)], args=[window * 2])
    except redis.RedisError as exc:
        logger.warning("rate limiter unavailable (%s); letting the request through", exc)
        return None
    return None if count <= limit else _retry_after(now, window, index)


def strikes_add(*, bucket: str, window: int) -> None:
    """Count one failure; the count lives `window` seconds from the first one (not a clock-aligned window,
    so a burst just before a boundary still waits the whole window)."""
    try:
        _redis()[1](keys=[_key(bucket, window, 0)], args=[window])
    except redis.RedisError as exc:
        logger.warning("rate limiter unavailable (%s); not counting", exc)


def strikes_wait(*, bucket: str, limit: int, window: int) -> int | None:
    """Seconds until the failures counted for `bucket` expire, once there are `limit` of them; else None."""
    try:
        count, ttl = _redis()[0].pipeline().get(_key(bucket, window, 0)).ttl(_key(bucket, window, 0)).execute()
    except redis.RedisError as exc:
        logger.warning("rate limiter unavailable (%s); letting the request through", exc)
        return None
    return max(1, ttl) if int(count or 0) >= limit else None


def rate_limit_forget_all() -> int:
    """Drop every counter under this deployment's key prefix (tests, and an operator lifting a lockout)."""
    prefix = settings.CACHES["default"].get("KEY_PREFIX", "sf")
    client = _redis()[0]
    keys = list(client.scan_iter(match=f"{prefix}:rl:*", count=1000))
    return client.delete(*keys) if keys else 0
