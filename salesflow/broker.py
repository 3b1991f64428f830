"""Queueing a Celery task without ever waiting on the broker.

Callers (a request after its commit, the SLA scan, the sweeps) queue work whose record is
already in the database: a Delivery row, an ImportJob in `queued`. The message is only a
kick that makes it happen sooner; a sweep finds what was not kicked. So a kick that cannot
reach Redis within a few milliseconds gives up rather than block the request:

- its own broker connection per process (and thread), with a short connect and socket
  timeout and no connection retries (Celery's default publish path retries and waits
  ~6 s per call when Redis is down);
- a circuit breaker: after one failure, kicks in this process return at once for
  `SALESFLOW_BROKER_BREAKER_SECONDS`; the next kick after that tries again.

Worker consumption is unaffected: the worker's own connection keeps Celery's settings
(reconnect forever, longer timeouts).
"""
import logging
import os
import threading
import time
from collections.abc import Iterable

from django.conf import settings

logger = logging.getLogger(__name__)

_local = threading.local()
_breaker_lock = threading.Lock()
_open_until = 0.0


def breaker_open() -> bool:
    return time.monotonic() < _open_until


def breaker_reset() -> None:
    """Close the breaker (tests; an operator's shell after Redis is back)."""
    global _open_until
    with _breaker_lock:
        _open_until = 0.0


def _breaker_trip() -> None:
    global _open_until
    with _breaker_lock:
        _open_until = time.monotonic() + settings.SALESFLOW_BROKER_BREAKER_SECONDS


def _connection():
    """This process's (and thread's) kick connection, rebuilt after a fork or a broker change."""
    from salesflow.celery import app

    key = (os.getpid(), app.conf.broker_url)
    cached = getattr(_local, "connection", None)
    if cached is not None and cached[0] == key:
        return cached[1]
    timeout = settings.SALESFLOW_BROKER_KICK_TIMEOUT
    connection = app.connection_for_write(
        connect_timeout=timeout,
        transport_options={
            **app.conf.broker_transport_options,
            "max_retries": 0,
            "socket_connect_timeout": timeout,
            "socket_timeout": timeout,
        },
    )
    _local.connection = (key, connection)
    return connection


def _drop_connection() -> None:
    cached = getattr(_local, "connection", None)
    _local.connection = None
    if cached is not None:
        try:
            cached[1].release()
        except Exception:  # a broken connection may fail to close; it is dropped either way
            pass


def kick_many(task, arg_tuples: Iterable[tuple]) -> int:
    """Queue `task` once per argument tuple; stop at the first failure. Returns how many went.

    Never raises and never waits longer than the kick timeout (once per breaker period).
    """
    arg_tuples = list(arg_tuples)
    if not arg_tuples or breaker_open():
        return 0
    sent = 0
    try:
        connection = _connection()
        for args in arg_tuples:
            task.apply_async(args, connection=connection, retry=False)
            sent += 1
    except Exception as exc:  # kombu and redis-py raise several families; all mean "not queued now"
        _drop_connection()
        _breaker_trip()
        logger.warning("broker unreachable (%s): %d of %d %s left for the sweep; not trying again for %ss",
                       exc, len(arg_tuples) - sent, len(arg_tuples), task.name, settings.SALESFLOW_BROKER_BREAKER_SECONDS)
    return sent


def kick(task, *args) -> bool:
    return kick_many(task, [args]) == 1
