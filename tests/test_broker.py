"""Queueing never waits on a broker that is away: real refused and silent sockets."""
import datetime as dt
import time

import pytest
from django.utils import timezone

from leads.services import intake_key_create
from salesflow import broker
from salesflow.notifications.models import Channel, Delivery
from salesflow.notifications.services import deliveries_sweep, delivery_send
from salesflow.notifications.tasks import delivery_send_task
from salesflow.notifications.tests.brokers import blackhole_port, broker_at, broker_down, closed_port
from salesflow.notifications.tests.sinks import RobotServer

# Sanity bounds only (the old publish path took ~6 s per call); real figures: bench/README.md.
FAST = 0.5
# A whole intake request on a shared, loaded test machine: far below the old 6 s, far above noise.
FAST_REQUEST = 2.0


def _timed(fn, *args):
    start = time.monotonic()
    result = fn(*args)
    return result, time.monotonic() - start


def test_a_kick_reaches_a_broker_that_answers():
    assert broker.kick(delivery_send_task, 0) is True
    assert not broker.breaker_open()


def test_a_refused_connection_fails_fast_and_opens_the_breaker():
    with broker_at(f"redis://127.0.0.1:{closed_port()}/0"):
        sent, first = _timed(broker.kick, delivery_send_task, 1)
        assert sent is False and first < FAST
        assert broker.breaker_open()
        sent, second = _timed(broker.kick_many, delivery_send_task, [(2,), (3,)])
        assert sent == 0 and second < 0.01


def test_a_broker_that_never_answers_costs_at_most_the_kick_timeout_once(settings):
    settings.SALESFLOW_BROKER_KICK_TIMEOUT = 0.2
    with blackhole_port() as port, broker_at(f"redis://127.0.0.1:{port}/0"):
        sent, first = _timed(broker.kick, delivery_send_task, 1)
        assert sent is False and 0.15 < first < 2.0  # waited on the silence, then gave up
        sent, second = _timed(broker.kick, delivery_send_task, 2)
        assert sent is False and second < 0.01


def test_the_breaker_tries_again_after_its_period(settings):
    settings.SALESFLOW_BROKER_BREAKER_SECONDS = 0.2
    with broker_down():
        broker.kick(delivery_send_task, 1)
    assert broker.breaker_open()
    time.sleep(0.25)
    assert broker.kick(delivery_send_task, 0) is True


@pytest.fixture
def robot():
    server = RobotServer().start()
    yield server
    server.stop()


def test_an_intake_with_the_broker_down_answers_fast_and_its_alert_goes_out_once_later(
    alpha, client_for, robot, django_capture_on_commit_callbacks
):
    Channel.objects.create(name="group", kind=Channel.Kind.WECOM, webhook_url=robot.url("/cgi-bin/webhook/send?key=k"))
    _, secret = intake_key_create(actor=alpha.admin, label="test")
    client = client_for(alpha)
    body = {"company": "华东医院", "contact_name": "王主任", "phone": "13800138001", "channel": "ad_platform",
            "budget_grade": "A", "region": "上海"}
    with broker_down(), django_capture_on_commit_callbacks(execute=True):
        start = time.monotonic()
        response = client.post("/api/v1/leads", data=body, content_type="application/json",
                               HTTP_AUTHORIZATION=f"Bearer {secret}")
        elapsed = time.monotonic() - start
    assert response.status_code == 201 and response.json()["status"] == "assigned"
    assert elapsed < FAST_REQUEST
    [delivery] = Delivery.objects.all()
    assert delivery.status == "pending" and robot.received == []

    broker.breaker_reset()  # Redis is back and the breaker's period has passed
    swept = deliveries_sweep(now=timezone.now() + dt.timedelta(minutes=2))
    assert swept == {"due": 1, "queued": 1, "released": 0, "failed": 0}
    assert delivery_send(delivery_id=delivery.pk).status == "sent"
    assert delivery_send(delivery_id=delivery.pk).status == "skipped"  # the queued message, redelivered
    assert len(robot.received) == 1


def test_a_csv_import_started_with_the_broker_down_is_run_by_the_sweep_later(alpha, django_capture_on_commit_callbacks):
    from django.core.files.base import ContentFile

    from leads.models import ImportJob
    from leads.services.imports import import_job_start, import_jobs_sweep

    job = ImportJob.objects.create(file=ContentFile(b"company,phone\nA,13500000001\n", name="l.csv"), created_by=alpha.admin,
                                   created_at=timezone.now() - dt.timedelta(minutes=5))
    with broker_down(), django_capture_on_commit_callbacks(execute=True):
        job, elapsed = _timed(lambda: import_job_start(actor=alpha.admin, job=job, mapping={"0": "company", "1": "phone"}))
    assert job.status == "queued" and elapsed < FAST_REQUEST
    assert import_jobs_sweep(now=timezone.now()) == 0  # the breaker is still open: nothing waits on Redis
    broker.breaker_reset()
    assert import_jobs_sweep(now=timezone.now()) == 1
    assert import_jobs_sweep(now=job.created_at) == 0  # a job just queued gets a minute for its kick
