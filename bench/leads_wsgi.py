"""The app as gunicorn serves it, plus one response header for the benchmark: X-Bench-DB-Ms,
the time this request spent in SQL statements (COMMIT excluded), measured in the worker."""
import time

from django.db import connection

from salesflow.wsgi import application as django_application


def application(environ, start_response):
    spent = [0.0]

    def timer(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent[0] += time.perf_counter() - started

    def start(status, headers, exc_info=None):
        return start_response(status, [*headers, ("X-Bench-DB-Ms", f"{spent[0] * 1000:.3f}")], exc_info)

    with connection.execute_wrapper(timer):
        return django_application(environ, start)
