"""A real Celery worker process killed with SIGKILL in the middle of a send."""
import datetime as dt
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from salesflow.i18n import verbatim
from salesflow.celery import app as celery_app
from salesflow.notifications.models import Channel, Delivery
from salesflow.notifications.services import LEASE, deliveries_sweep, notify
from salesflow.org.tests.factories import UserFactory

from .sinks import RobotServer
from salesflow.i18n import verbatim

ROOT = Path(__file__).resolve().parents[3]


def _worker() -> subprocess.Popen:
    db = settings.DATABASES["default"]
    host = db["HOST"] or "localhost"
    host = quote(host, safe="") if host.startswith("/") else host
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "salesflow.settings.test",
           "DATABASE_URL": f"postgres://{db['USER']}@{host}:{db['PORT'] or 5432}/{db['NAME']}"}
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "celery"), "-A", "salesflow", "worker", "--pool", "prefork",
         "--concurrency", "1", "-Q", celery_app.conf.task_default_queue, "--without-gossip", "--without-mingle",
         "--loglevel", "WARNING"],
        cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def _kill(worker: subprocess.Popen) -> None:
    try:
        os.killpg(worker.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    worker.wait(timeout=10)


def _until(check, seconds: float):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.1)
    raise AssertionError(f"not within {seconds} s")


@pytest.mark.xdist_group("celery-worker-process")
def test_a_worker_killed_mid_send_leaves_the_alert_to_be_sent_again_after_its_lease(committed_tenant):
    robot = RobotServer(delays=[60.0]).start()  # the first send hangs until the worker is killed
    first = second = None
    try:
        with tenant_context(committed_tenant):
            Channel.objects.create(name="group", kind=Channel.Kind.WECOM, webhook_url=robot.url("/cgi-bin/webhook/send?key=k"))
            rep = UserFactory(username="killrep")
            first = _worker()
            with transaction.atomic():  # commits: the kick goes to the queue the worker reads
                notify(recipients=[rep], event_key="sla:golden48:7:x", title=verbatim("48 小时未跟进"), body=verbatim("b"), kind="alert")
            delivery = Delivery.objects.get()
            _until(lambda: robot.received, 90)
            _kill(first)
            delivery.refresh_from_db()
            assert delivery.status == "sending" and delivery.attempts == 1

            swept = deliveries_sweep(now=timezone.now() + LEASE + dt.timedelta(seconds=1))
            assert swept["released"] == 1 and swept["queued"] == 1
            second = _worker()
            _until(lambda: Delivery.objects.filter(pk=delivery.pk, status="sent").exists(), 90)
            delivery.refresh_from_db()
            assert delivery.attempts == 2 and "outcome unknown" in delivery.last_error
            refs = [re.findall(r"SF-\d+", json.dumps(r.body)) for r in robot.received]
            assert refs == [[f"SF-{delivery.pk}"], [f"SF-{delivery.pk}"]]
    finally:
        for worker in (first, second):
            if worker is not None:
                _kill(worker)
        robot.stop()
