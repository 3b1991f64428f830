"""django-tenants' PostgreSQL backend with a per-request health check that rarely costs a round trip.

With `CONN_HEALTH_CHECKS`, Django sends `SELECT 1` before the first query of every request
that reuses a connection: on the intake path that is one round trip in twelve. Here the
real check runs only when it can find something:
- PostgreSQL spoke while the connection was idle: a terminated backend (restart, failover,
  `pg_terminate_backend`) sends a FATAL message and closes the socket;
- or the connection sat idle longer than `IDLE_CHECK_SECONDS`: a server that vanished
  without a word (a crashed host, a moved virtual IP) is found by the real check, as before.
A busy connection is never idle that long; a quiet one pays the round trip, as Django would.

django-tenants forgets the connection's search_path whenever a request selects its tenant and
so sends `SET search_path` again at the first query of every request. Here the path the
connection last applied is remembered, and a request selecting the same tenant reuses it
(forgotten when PostgreSQL could have dropped it: rollback, rollback to a savepoint, close).
"""
import select
import time

from django_tenants.postgresql_backend.base import DatabaseWrapper as TenantDatabaseWrapper

IDLE_CHECK_SECONDS = 2.0


class DatabaseWrapper(TenantDatabaseWrapper):
    _idle_since: float | None = None
    _applied_search_path: list[str] | None = None

    def set_tenant(self, tenant, include_public=True):
        applied = self._applied_search_path
        super().set_tenant(tenant, include_public)
        if applied is not None and applied == self._get_cursor_search_paths():
            self.search_path_set_schemas = applied

    def _handle_search_path(self, cursor=None):
        super()._handle_search_path(cursor)
        self._applied_search_path = self.search_path_set_schemas

    def connect(self):
        self._applied_search_path = None
        super().connect()

    def close(self):
        self._applied_search_path = None
        super().close()

    def rollback(self):
        self._applied_search_path = None
        super().rollback()

    def savepoint_rollback(self, sid):
        self._applied_search_path = None
        super().savepoint_rollback(sid)

    def close_if_health_check_failed(self):
        if self.connection is None or not self.health_check_enabled or self.health_check_done:
            return
        if self._idle_too_long() or self._server_spoke_while_idle():
            super().close_if_health_check_failed()
        self.health_check_done = True

    def close_if_unusable_or_obsolete(self):
        super().close_if_unusable_or_obsolete()
        self._idle_since = time.monotonic()  # the end of a request: the connection goes idle

    def _idle_too_long(self) -> bool:
        return self._idle_since is None or time.monotonic() - self._idle_since > IDLE_CHECK_SECONDS

    def _server_spoke_while_idle(self) -> bool:
        if self.connection.closed:
            return True
        poller = select.poll()  # not select(): it fails on descriptors above 1023
        poller.register(self.connection.fileno(), select.POLLIN | select.POLLERR | select.POLLHUP)
        return bool(poller.poll(0))
