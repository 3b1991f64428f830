"""Real brokers that are not there: a closed port (refuses at once) and a blackhole (a
listening socket that never accepts or answers), for the Celery app to point at."""
import contextlib
import socket

from salesflow.celery import app as celery_app


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nobody listens once the probe is closed


class Blackhole:
    """A broker address whose connections complete in the kernel's backlog and then hear nothing.

    `connections()` accepts whatever has arrived and returns how many connections were made so far:
    an exact count of attempts, however loaded the machine (no thread, no timing).
    """

    def __init__(self, listener: socket.socket):
        self._listener = listener
        self._accepted: list[socket.socket] = []
        self.url = f"redis://127.0.0.1:{listener.getsockname()[1]}/0"

    def connections(self) -> int:
        while True:
            try:
                connection, _ = self._listener.accept()
            except BlockingIOError:
                return len(self._accepted)
            self._accepted.append(connection)

    def close(self) -> None:
        for connection in self._accepted:
            connection.close()
        self._listener.close()


@contextlib.contextmanager
def blackhole():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.setblocking(False)
    hole = Blackhole(listener)
    try:
        yield hole
    finally:
        hole.close()


@contextlib.contextmanager
def broker_at(url: str):
    """Point Celery's broker at `url` for the block, then back at the real Redis."""
    saved = celery_app.conf.broker_url
    _point_broker_at(url)
    try:
        yield
    finally:
        _point_broker_at(saved)


@contextlib.contextmanager
def broker_down():
    with broker_at(f"redis://127.0.0.1:{closed_port()}/0"):
        yield


def _point_broker_at(url: str) -> None:
    # Celery caches a connection pool and a producer pool bound to the old URL: drop our
    # references (not close them: other code may still hold the old pool) so both rebuild.
    celery_app.conf.broker_url = url
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
