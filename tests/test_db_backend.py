"""The per-request connection check: no round trip for a quiet connection, a real check and a
new connection when PostgreSQL has terminated the backend."""
import time

import pytest
from django.db import connections


@pytest.fixture
def own_connection(django_db_blocker):
    with django_db_blocker.unblock():
        wrapper = connections.create_connection("default")
        wrapper.ensure_connection()
        yield wrapper
        wrapper.close()


def _next_request(wrapper, *, idle_for: float = 0.0):
    wrapper._idle_since = time.monotonic() - idle_for  # when the previous request ended
    wrapper.health_check_done = False
    wrapper.close_if_health_check_failed()


def _count_real_checks(wrapper, monkeypatch) -> list:
    real_checks = []
    monkeypatch.setattr(wrapper, "is_usable", lambda: real_checks.append(1) or True)  # Django's SELECT 1
    return real_checks


def test_a_quiet_connection_is_reused_without_a_round_trip(own_connection, monkeypatch):
    assert own_connection.health_check_enabled
    real_checks = _count_real_checks(own_connection, monkeypatch)
    before = own_connection.connection.info.backend_pid
    _next_request(own_connection)
    assert real_checks == []
    assert own_connection.connection is not None and own_connection.connection.info.backend_pid == before


def test_a_backend_terminated_by_the_server_is_replaced_before_the_next_request_uses_it(own_connection, django_db_blocker):
    pid = own_connection.connection.info.backend_pid
    with django_db_blocker.unblock():
        killer = connections.create_connection("default")
        with killer.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        killer.close()
    deadline = time.monotonic() + 5
    while not own_connection._server_spoke_while_idle() and time.monotonic() < deadline:
        time.sleep(0.02)
    _next_request(own_connection)
    assert own_connection.connection is None  # closed by the real check
    with django_db_blocker.unblock(), own_connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != pid


def test_a_connection_idle_for_a_while_gets_the_real_check(own_connection, monkeypatch):
    from salesflow.db_backend.base import IDLE_CHECK_SECONDS

    real_checks = _count_real_checks(own_connection, monkeypatch)
    _next_request(own_connection, idle_for=IDLE_CHECK_SECONDS + 1)
    assert real_checks == [1]


def _statements(wrapper, work) -> list[str]:
    seen = []

    def spy(execute, sql, params, many, context):
        seen.append(sql)
        return execute(sql, params, many, context)

    with wrapper.execute_wrapper(spy):
        work()
    return seen


def _query_as(wrapper, schema: str):
    def work():
        wrapper.set_schema(schema)  # what the tenant middleware does at every request
        with wrapper.cursor() as cursor:
            cursor.execute("SELECT current_schemas(false)")
            return cursor.fetchone()
    return work


def test_the_search_path_is_set_once_per_tenant_not_once_per_request(django_db_setup, own_connection, django_db_blocker):
    with django_db_blocker.unblock():
        first = _statements(own_connection, _query_as(own_connection, "alpha"))
        again = _statements(own_connection, _query_as(own_connection, "alpha"))
        other = _statements(own_connection, _query_as(own_connection, "beta"))
        with own_connection.cursor() as cursor:
            cursor.execute("SELECT current_schemas(false)")
            assert cursor.fetchone()[0][0] == "beta"
    assert sum("SET search_path" in sql for sql in first) == 1
    assert not any("SET search_path" in sql for sql in again)
    assert sum("SET search_path" in sql for sql in other) == 1


def test_a_rolled_back_search_path_is_set_again(django_db_setup, own_connection, django_db_blocker):
    with django_db_blocker.unblock():
        _query_as(own_connection, "alpha")()
        own_connection.set_autocommit(False)
        _query_as(own_connection, "beta")()  # SET inside a transaction, undone by its rollback
        own_connection.rollback()
        own_connection.set_autocommit(True)
        after = _statements(own_connection, _query_as(own_connection, "beta"))
        with own_connection.cursor() as cursor:
            cursor.execute("SELECT current_schemas(false)")
            assert cursor.fetchone()[0][0] == "beta"
    assert sum("SET search_path" in sql for sql in after) == 1
