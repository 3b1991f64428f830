"""Real brokers that are not there: a closed port (refuses at once) and a blackhole (a
listening socket that never accepts or answers), for the Celery app to point at."""
import contextlib
import socket

from salesflow.celery import app as celery_app


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nobody listens once the probe is closed


@contextlib.contextmanager
def blackhole_port():
    """A port whose connections complete in the kernel's backlog and then hear nothing."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        yield listener.getsockname()[1]


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
