"""A fixed-window counter per intake key in Redis: INCR and EXPIRE in one MULTI, so concurrent
requests never lose a count. When Redis is down intake stays open (logged): losing leads
would cost more than a minute without a limit."""
import logging
import time

import redis
from django.conf import settings
from django.db import connection

logger = logging.getLogger(__name__)
WINDOW_SECONDS = 60
_client: redis.Redis | None = None


def _redis() -> redis.Redis:
    global _client
    if _client is None:
        _client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=0.5, socket_timeout=0.5)
    return _client


def rate_limit_hit(*, bucket: str, limit: int, now: float | None = None) -> int | None:
    """Count one request; None when allowed, else the seconds until the window reopens."""
    now = time.time() if now is None else now
    window = int(now // WINDOW_SECONDS)
    key = f"{settings.CACHES['default'].get('KEY_PREFIX', 'sf')}:rl:{connection.schema_name}:{bucket}:{window}"
    try:
        pipe = _redis().pipeline(transaction=True)
        pipe.incr(key)
        pipe.expire(key, WINDOW_SECONDS * 2)
        count, _ = pipe.execute()
    except redis.RedisError as exc:
        logger.warning("rate limiter unavailable (%s); letting the request through", exc)
        return None
    if count <= limit:
        return None
    return max(1, int((window + 1) * WINDOW_SECONDS - now + 0.999))
