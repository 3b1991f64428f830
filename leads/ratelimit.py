"""A fixed-window counter per intake key in Redis: INCR and EXPIRE in one Lua script, atomic on
the server and one round trip, so concurrent requests never lose a count. When Redis is down
intake stays open (logged): losing leads would cost more than a minute without a limit."""
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
_count = None


def _counter():
    global _count
    if _count is None:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=0.5, socket_timeout=0.5)
        _count = client.register_script(COUNT_SCRIPT)
    return _count


def rate_limit_hit(*, bucket: str, limit: int, now: float | None = None) -> int | None:
    """Count one request; None when allowed, else the seconds until the window reopens."""
    now = time.time() if now is None else now
    window = int(now // WINDOW_SECONDS)
    key = f"{settings.CACHES['default'].get('KEY_PREFIX', 'sf')}:rl:{connection.schema_name}:{bucket}:{window}"
    try:
        count = _counter()(keys=[key], args=[WINDOW_SECONDS * 2])
    except redis.RedisError as exc:
        logger.warning("rate limiter unavailable (%s); letting the request through", exc)
        return None
    if count <= limit:
        return None
    return max(1, int((window + 1) * WINDOW_SECONDS - now + 0.999))
