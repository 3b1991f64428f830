"""Hardening benchmarks: Redis stopped vs running (intake, SLA scan), and a worker killed mid-send.

    make bench BENCH_ARGS="--only hardening [--parts kick,intake,scan,kill] [--reps 50] [--existing 20000]
        [--rate 20] [--seconds 30] [--workers 3] [--scan-opportunities 3000]"

Every part runs against a redis-server of its own on a free port, started and stopped here
(never the shared one): gunicorn, the Celery worker and beat, and this process's kicks all
point at it. A local robot sink (WeCom-shaped, on 127.0.0.1, trusted through
SALESFLOW_OUTBOUND_TRUSTED_HOSTS) is the tenant's outside channel, so every assignment and
alert writes a delivery.

kick    what queueing one delivery costs the caller, 300 calls each with Redis running,
        stopped (connections refused) and silent (a socket that never answers).
intake  steady open-loop intake (--rate req/s for --seconds) with Redis running, then with it
        stopped; then Redis back, a worker and the sweep: every delivery sent, each once.
scan    two identical seeded tenants; the first SLA scan (the seeded backlog of alerts) of one
        with Redis running, of the other with Redis stopped.
kill    a real prefork worker killed with SIGKILL while the robot holds its send; a new worker
        and beat (the real minute sweep): time until the alert is sent again, sends counted.
"""
import argparse
import datetime as dt
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.db import connections, transaction
from django_tenants.utils import schema_context

from bench.bench_leads import Client, _free_port, build_leads, build_org, gunicorn_start, run_steady
from bench.support import bench_tenant, record, tenant_drop

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _parse(argv):
    parser = argparse.ArgumentParser(prog="bench_hardening")
    parser.add_argument("--parts", default="kick,intake,scan,kill")
    parser.add_argument("--reps", type=int, default=50)
    parser.add_argument("--existing", type=int, default=20_000)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--scan-opportunities", type=int, default=3000)
    options, _ = parser.parse_known_args(argv)
    return options


class OwnRedis:
    """A redis-server on a free port, stoppable and restartable on the same port."""

    def __init__(self):
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        import redis

        for _ in range(100):
            try:
                redis.Redis.from_url(self.url).ping()
                return self
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError("own redis-server did not start")

    def stop(self):
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


def _point_here_at(redis_url: str) -> None:
    """This process's settings, cache, Celery app and subprocesses all use `redis_url`."""
    from django.conf import settings

    from salesflow.broker import breaker_reset
    from salesflow.celery import app

    os.environ.update({"REDIS_URL": redis_url, "SALESFLOW_OUTBOUND_TRUSTED_HOSTS": "127.0.0.1"})
    settings.SALESFLOW_OUTBOUND_TRUSTED_HOSTS = ["127.0.0.1"]
    app.conf.broker_url = redis_url
    app._pool = None
    app.amqp._producer_pool = None
    breaker_reset()


def _celery(*args) -> subprocess.Popen:
    return subprocess.Popen([str(BIN / "celery"), "-A", "salesflow", *args, "--loglevel", "WARNING"],
                            cwd=ROOT, env={**os.environ, "DEBUG": "0"}, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _kill(process) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=10)


def _robot_channel(robot) -> None:
    from salesflow.notifications.models import Channel

    Channel.objects.create(name="bench robot", kind=Channel.Kind.WECOM, webhook_url=robot.url("/cgi-bin/webhook/send?key=b"))


def _refs(robot) -> list[str]:
    return [ref for r in robot.received for ref in re.findall(r"SF-\d+", json.dumps(r.body))]


def _deliveries(schema) -> dict:
    from django.db.models import Count

    from salesflow.notifications.models import Delivery

    with schema_context(schema):
        return dict(Delivery.objects.values_list("status").annotate(n=Count("id")))


def _wait(check, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.5)
    return False


def bench_intake(options, redis, robot) -> bool:
    from leads.services import intake_key_create
    from salesflow.notifications.services import deliveries_sweep
    from salesflow.org.models import TenantSettings

    tenant = bench_tenant("hard")
    try:
        with schema_context(tenant.schema_name):
            build_leads(options.existing, build_org(options.reps))
            TenantSettings.objects.filter(pk=1).update(intake_rate_limit=10_000_000)
            _robot_channel(robot)
            with transaction.atomic():
                _, key = intake_key_create(actor="bench", label="bench")
        host = tenant.get_primary_domain().domain
        connections.close_all()
        server, port = gunicorn_start(options.workers)
        try:
            Client(port, host, key).post({"company": "warm", "contact_name": "w", "phone": "13900000000", "channel": "api"})
            up = run_steady(port, host, key, rate=options.rate, seconds=options.seconds, duplicates=0.0, seed=11)
            up["load_average"] = os.getloadavg()
            redis.stop()
            down = run_steady(port, host, key, rate=options.rate, seconds=options.seconds, duplicates=0.0, seed=12)
            down["load_average"] = os.getloadavg()
            pending_after_outage = _deliveries(tenant.schema_name)
        finally:
            server.terminate()
            server.wait(timeout=30)
        redis.start()
        worker = _celery("worker", "--pool", "prefork", "--concurrency", "2")
        try:
            started = time.perf_counter()
            sweeps = []

            def drained():  # the minute sweep on the real clock, run every 5 s here instead of 60 s
                if set(_deliveries(tenant.schema_name)) == {"sent"}:
                    return True
                if not sweeps or time.perf_counter() - sweeps[-1][0] > 5:
                    with schema_context(tenant.schema_name):
                        swept = deliveries_sweep(now=dt.datetime.now(dt.timezone.utc))
                    sweeps.append((time.perf_counter(), swept["queued"]))
                return False

            done = _wait(drained, 600)
            drained_s = time.perf_counter() - started
            swept = [queued for _, queued in sweeps]
        finally:
            _kill(worker)
        final = _deliveries(tenant.schema_name)
        refs = _refs(robot)
        result = {"redis_running": up, "redis_stopped": down, "deliveries_after_outage": pending_after_outage,
                  "sweep": swept, "drained_s": round(drained_s, 1), "deliveries_final": final,
                  "robot_posts": len(refs), "distinct_refs": len(set(refs))}
        print(f"intake: {json.dumps(result, ensure_ascii=False)}", flush=True)
        record("intake", result)
        return done and len(refs) == len(set(refs)) == final.get("sent", 0)
    finally:
        tenant_drop(tenant)


def bench_scan(options, redis, robot) -> bool:
    from bench.bench_followups import _seed
    from followups.services import sla_scan

    tenants = [bench_tenant("hscan"), bench_tenant("hscan")]
    try:
        results = {}
        for tenant, state in zip(tenants, ("running", "stopped")):
            _seed(tenant, reps=12, opportunities=options.scan_opportunities, days=60, seed=3)
            with schema_context(tenant.schema_name):
                _robot_channel(robot)
        now = dt.datetime.now(dt.timezone.utc)
        for tenant, state in zip(tenants, ("running", "stopped")):
            if state == "stopped":
                redis.stop()
            with schema_context(tenant.schema_name):
                started = time.perf_counter()
                scan = sla_scan(now=now)
                elapsed = time.perf_counter() - started
                later = time.perf_counter()
                steady = sla_scan(now=now + dt.timedelta(hours=1))
                steady_s = time.perf_counter() - later
            results[state] = {"scan_s": round(elapsed, 3), "alerts": scan.alerts, "deliveries": _deliveries(tenant.schema_name),
                              "plus_1h_scan_s": round(steady_s, 3), "plus_1h_alerts": steady.alerts,
                              "load_average": os.getloadavg()}
        redis.start()
        print(f"scan: {json.dumps(results, ensure_ascii=False)}", flush=True)
        record("scan", results)
        return results["stopped"]["scan_s"] < 3 * results["running"]["scan_s"] + 1
    finally:
        for tenant in tenants:
            tenant_drop(tenant)


def bench_kill(options, robot) -> bool:
    from salesflow.notifications.models import Delivery
    from salesflow.i18n import verbatim
    from salesflow.notifications.services import notify
    from salesflow.org.tests.factories import UserFactory

    tenant = bench_tenant("hkill")
    robot.received.clear()
    robot.delays[:] = [600.0]  # the first send is held until the worker is gone
    first = _celery("worker", "--pool", "prefork", "--concurrency", "1")
    second = beat = None
    try:
        with schema_context(tenant.schema_name):
            _robot_channel(robot)
            user = UserFactory(username="bench-kill")
            with transaction.atomic():
                notify(recipients=[user], event_key="bench:kill:1", title=verbatim("48 小时未跟进"), body=verbatim("bench"),
                       kind="alert")
            delivery = Delivery.objects.get()
        if not _wait(lambda: robot.received, 120):
            raise RuntimeError("the worker never sent")
        killed_at = time.perf_counter()
        _kill(first)
        second = _celery("worker", "--pool", "prefork", "--concurrency", "1")
        beat = _celery("beat", "--schedule", f"/tmp/bench-hardening-beat-{os.getpid()}")
        resent = _wait(lambda: len(robot.received) >= 2, 400)
        resent_after = time.perf_counter() - killed_at
        time.sleep(75)  # one more sweep: nothing goes a third time
        with schema_context(tenant.schema_name):
            delivery.refresh_from_db()
        refs = _refs(robot)
        result = {"resent": resent, "resent_after_kill_s": round(resent_after, 1), "robot_posts": len(refs),
                  "same_ref": len(set(refs)) == 1, "status": delivery.status, "attempts": delivery.attempts,
                  "last_error": delivery.last_error}
        print(f"kill: {json.dumps(result, ensure_ascii=False)}", flush=True)
        record("kill", result)
        return resent and len(refs) == 2 and delivery.status == "sent"
    finally:
        for process in (first, second, beat):
            if process is not None:
                _kill(process)
        tenant_drop(tenant)


def bench_kick(redis) -> bool:
    """What queueing one delivery costs the caller: Redis running, stopped (refused), silent."""
    import socket

    from salesflow import broker
    from salesflow.notifications.tasks import delivery_send_task
    from bench.support import median, percentile

    def timed(calls=300):
        samples = []
        for _ in range(calls):
            started = time.perf_counter()
            broker.kick(delivery_send_task, 0)
            samples.append((time.perf_counter() - started) * 1000)
        return {"calls": calls, "median_ms": round(median(samples), 3), "p95_ms": round(percentile(samples, 0.95), 3),
                "max_ms": round(max(samples), 2), "first_ms": round(samples[0], 2)}

    results = {"running": timed()}
    redis.stop()
    broker.breaker_reset()
    results["stopped"] = timed()
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(0)
        _point_here_at(f"redis://127.0.0.1:{silent.getsockname()[1]}/0")
        results["silent"] = timed()
    redis.start()
    _point_here_at(redis.url)
    print(f"kick: {json.dumps(results)}", flush=True)
    record("kick", results)
    return results["stopped"]["max_ms"] < 50


def main(argv) -> int:
    from salesflow.notifications.tests.sinks import RobotServer

    from django.conf import settings

    options = _parse(argv)
    settings.DEBUG = False  # this process runs the scans; gunicorn and the workers get DEBUG=0
    random.seed(1)
    redis = OwnRedis().start()
    robot = RobotServer().start()
    _point_here_at(redis.url)
    ok = True
    try:
        print(f"own redis on port {redis.port}; robot sink on port {robot.port}", flush=True)
        if "kick" in options.parts:
            ok &= bench_kick(redis)
        if "intake" in options.parts:
            ok &= bench_intake(options, redis, robot)
        if "scan" in options.parts:
            robot.received.clear()
            ok &= bench_scan(options, redis, robot)
        if "kill" in options.parts:
            ok &= bench_kill(options, robot)
    finally:
        robot.stop()
        redis.stop()
    return 0 if ok else 1
