"""Queueing never waits on a broker that is away: real refused and silent sockets.

How long a kick may wait is its socket timeout; what these tests pin is that it is paid once: one
connection attempt, no retries, and none at all while the breaker is open (counted on a real silent
socket, so a loaded machine cannot make them flake). Timings are the benchmark's business.
"""
import datetime as dt
import time

import pytest
from django.utils import timezone

from leads.services import intake_key_create
from salesflow import broker
from salesflow.notifications.models import Channel, Delivery
from salesflow.notifications.services import deliveries_sweep, delivery_send
from salesflow.notifications.tasks import delivery_send_task
from salesflow.notifications.tests.brokers import blackhole, broker_at, closed_port
from salesflow.notifications.tests.sinks import RobotServer


def test_a_kick_reaches_a_broker_that_answers():
    assert broker.kick(delivery_send_task, 0) is True
    assert not broker.breaker_open()


def test_a_refused_connection_opens_the_breaker_and_later_kicks_do_not_try():
    with broker_at(f"redis://127.0.0.1:{closed_port()}/0"):
        assert broker.kick(delivery_send_task, 1) is False
    assert broker.breaker_open()
    with blackhole() as hole, broker_at(hole.url):
        assert broker.kick_many(delivery_send_task, [(2,), (3,)]) == 0
        assert hole.connections() == 0  # returned without even connecting


def test_a_broker_that_never_answers_costs_one_attempt_of_the_kick_timeout(settings):
    settings.SALESFLOW_BROKER_KICK_TIMEOUT = 0.2
    with blackhole() as hole, broker_at(hole.url):
        start = time.monotonic()
        assert broker.kick(delivery_send_task, 1) is False
        assert time.monotonic() - start >= 0.15  # it waited on the silence (for its timeout), then gave up
        assert hole.connections() == 1  # once: Celery's default publish would reconnect and retry for ~6 s
        assert broker.kick(delivery_send_task, 2) is False
        assert hole.connections() == 1


def test_the_breaker_tries_again_after_its_period(settings):
    settings.SALESFLOW_BROKER_BREAKER_SECONDS = 0.2
    with broker_at(f"redis://127.0.0.1:{closed_port()}/0"):
        broker.kick(delivery_send_task, 1)
    assert broker.breaker_open()
    time.sleep(0.25)
    assert broker.kick(delivery_send_task, 0) is True


@pytest.fixture
def robot():
    server = RobotServer().start()
    yield server
    server.stop()


def test_an_intake_with_a_silent_broker_tries_it_once_and_its_alert_goes_out_once_later(
    alpha, client_for, robot, django_capture_on_commit_callbacks
):
    Channel.objects.create(name="group", kind=Channel.Kind.WECOM, webhook_url=robot.url("/cgi-bin/webhook/send?key=k"))
    _, secret = intake_key_create(actor=alpha.admin, label="test")
    client = client_for(alpha)
    body = {"company": "华东医院", "contact_name": "王主任", "phone": "13800138001", "channel": "ad_platform",
            "budget_grade": "A", "region": "上海"}
    with blackhole() as hole, broker_at(hole.url):
        with django_capture_on_commit_callbacks(execute=True):  # the kick runs after the commit
            response = client.post("/api/v1/leads", data=body, content_type="application/json",
                                   HTTP_AUTHORIZATION=f"Bearer {secret}")
        attempts = hole.connections()
    assert response.status_code == 201 and response.json()["status"] == "assigned"
    assert attempts == 1  # one kick timeout at most, then the breaker
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
    with blackhole() as hole, broker_at(hole.url):
        with django_capture_on_commit_callbacks(execute=True):
            job = import_job_start(actor=alpha.admin, job=job, mapping={"0": "company", "1": "phone"})
        attempts = hole.connections()
    assert job.status == "queued" and attempts == 1
    assert import_jobs_sweep(now=timezone.now()) == 0  # the breaker is still open: nothing waits on Redis
    broker.breaker_reset()
    assert import_jobs_sweep(now=timezone.now()) == 1
    assert import_jobs_sweep(now=job.created_at) == 0  # a job just queued gets a minute for its kick
