"""django-tenants' PostgreSQL backend with a per-request health check that costs no round trip.

With `CONN_HEALTH_CHECKS`, Django sends `SELECT 1` before the first query of every request
that reuses a connection: on the intake path that is one round trip in thirteen. A backend
that PostgreSQL terminated (restart, failover, `pg_terminate_backend`) announces it: it
sends a FATAL message and closes the socket, so the idle connection's socket has something
to read. Only then is Django's real check run, and the connection replaced if it fails.
A connection that went silent without a word is not caught by either check before its
first query fails.
"""
import select

from django_tenants.postgresql_backend.base import DatabaseWrapper as TenantDatabaseWrapper


class DatabaseWrapper(TenantDatabaseWrapper):
    def close_if_health_check_failed(self):
        if self.connection is None or not self.health_check_enabled or self.health_check_done:
            return
        if self._server_spoke_while_idle():
            super().close_if_health_check_failed()
        self.health_check_done = True

    def _server_spoke_while_idle(self) -> bool:
        if self.connection.closed:
            return True
        readable, _, _ = select.select([self.connection.fileno()], [], [], 0)
        return bool(readable)
