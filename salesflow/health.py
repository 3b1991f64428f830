import redis
from django.conf import settings
from django.db import connection
from django.http import JsonResponse


def _database_answers() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception:  # any failure means "not healthy"; the reason goes into the log
        connection.close_if_unusable_or_obsolete()
        return False


def _redis_answers() -> bool:
    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


class HealthCheckMiddleware:
    """`/healthz` on any host, answered before tenant resolution (which itself needs the database)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path != "/healthz":
            return self.get_response(request)
        checks = {"database": _database_answers(), "redis": _redis_answers()}
        failed = [name for name, ok in checks.items() if not ok]
        body = {"status": "ok" if not failed else "unavailable", "checks": {k: "ok" if v else "down" for k, v in checks.items()}}
        if failed:
            body["failed"] = failed
        response = JsonResponse(body, status=503 if failed else 200)
        response["Cache-Control"] = "no-store"
        return response
