"""Leads benchmarks: intake through gunicorn (steady rate and saturation) and routing contention.

    make bench BENCH_ARGS="--only leads [--parts intake,saturation,routing] [--existing 1000000]
        [--reps 200] [--rate 100] [--seconds 60] [--duplicates 0.2] [--workers 4]
        [--saturation-clients 16] [--saturation-seconds 20] [--routing-clients 64]
        [--routing-leads 20000] [--routing-reps 10] [--keep]"

intake      a tenant with --reps reps and --existing leads (built set-based in SQL), served by
            gunicorn on a loopback port; an open-loop client sends --rate requests/s for
            --seconds, a --duplicates share of them repeats an earlier payload (200 duplicate).
            Latency percentiles, status counts, database time per request (X-Bench-DB-Ms,
            SQL statements measured in the worker) and each worker's RSS after the run.
saturation  closed loop: --saturation-clients clients send back to back; requests/s.
pools       one tenant per --pool-sizes: that many reps in one pool (one region, one product
            line) taking B-grade leads through the default round-robin rule, plus the old
            4-region shape; for each --pool-workers gunicorn, --pool-runs rounds of /healthz
            then intake saturation per tenant, then a steady 100/s per tenant (leads_pools.py).
cpu         CPU ms per intake and per /healthz in one process (the worker's and the PostgreSQL
            backend's), backend CPU per statement, and with --cpu-callgrind N instructions per
            request under callgrind (leads_cpu.py).
routing     --routing-clients processes with their own connections call the intake service
            into one round-robin rule over --routing-reps reps, --routing-leads leads in all:
            spread, capacity breaches, deadlocks, audit chain, throughput.
"""
import argparse
import contextlib
import http.client
import json
import multiprocessing
import os
import queue
import random
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from django.db import connection, connections, transaction
from django_tenants.utils import schema_context

from bench.support import bench_tenant, median, percentile, record, tenant_drop

ROOT = Path(__file__).resolve().parent.parent


def _parse(argv):
    parser = argparse.ArgumentParser(prog="bench_leads")
    parser.add_argument("--parts", default="intake,saturation,routing")
    parser.add_argument("--existing", type=int, default=1_000_000)
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--duplicates", type=float, default=0.2)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--saturation-clients", type=int, default=16)
    parser.add_argument("--saturation-seconds", type=float, default=20.0)
    parser.add_argument("--routing-clients", type=int, default=64)
    parser.add_argument("--routing-leads", type=int, default=20000)
    parser.add_argument("--routing-reps", type=int, default=10)
    parser.add_argument("--keep", action="store_true")
    # pools: one pool of each size beside /healthz (bench/leads_pools.py)
    parser.add_argument("--pool-sizes", default="10,50,200,300")
    parser.add_argument("--pool-workers", default="2,5")
    parser.add_argument("--pool-runs", type=int, default=3)
    parser.add_argument("--pool-clients", type=int, default=8)
    parser.add_argument("--pool-seconds", type=float, default=8.0)
    parser.add_argument("--pool-steady-seconds", type=float, default=20.0)
    parser.add_argument("--pool-existing", default="10000", help="stored leads per tenant; a list (10000,1000000) gives each")
    parser.add_argument("--pool-rate", type=float, default=100.0, help="the steady open-loop rate, intake and /healthz")
    parser.add_argument("--pool-regions-row", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--pool-reuse", action=argparse.BooleanOptionalAction, default=True)
    # profile: one intake's statements and a py-spy profile of one worker (bench/leads_profile.py)
    parser.add_argument("--profile-reps", type=int, default=300)
    parser.add_argument("--profile-seconds", type=float, default=15.0)
    # cpu: CPU and instructions per request, intake beside /healthz (bench/leads_cpu.py)
    parser.add_argument("--cpu-requests", type=int, default=400)
    parser.add_argument("--cpu-callgrind", type=int, default=0, help="requests of each measured under callgrind (0: not run)")
    options, _ = parser.parse_known_args(argv)
    return options


# ------------------------------------------------------------------------------- dataset

def build_org(reps: int) -> list[int]:
    """Regions, teams and `reps` reps with profiles the default rules can match."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    from salesflow.org.models import Member, Region, Role, Team

    User = get_user_model()
    password = make_password("bench-password-1")
    regions = [Region.objects.create(name=name) for name in ("华东区", "华北区", "华南区", "西南区")]
    teams = [Team.objects.create(name=f"bench-team-{i}", region=regions[i % 4]) for i in range(10)]
    users = User.objects.bulk_create([User(username=f"brep{i:04d}", email=f"brep{i:04d}@bench.example", password=password)
                                      for i in range(reps)])
    Member.objects.bulk_create([
        Member(user=user, full_name=f"Rep {i}", role=Role.REP, team=teams[i % 10], region=teams[i % 10].region,
               industries=["医疗器械"], product_lines=["影像设备", "检验试剂"], years_experience=i % 12, capacity=400)
        for i, user in enumerate(users)
    ])
    return [u.pk for u in users]


def build_leads(count: int, rep_ids: list[int]) -> float:
    """`count` historical leads in one INSERT … SELECT: 96 % closed, 2 % open, 2 % in the pool."""
    from django.contrib.auth import get_user_model

    from leads.models import Lead, RepLoad
    from salesflow.org.models import Member

    User = get_user_model()
    started = time.perf_counter()
    table = Lead._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor, _indexes_built_after(cursor, table):
        cursor.execute(
            f"""
            INSERT INTO {table} (company, contact_name, phone, phone_normalized, email, email_normalized, channel,
                industry, region, product_line, budget_grade, industry_match, tier, external_id, note, score,
                score_breakdown, status, owner_id, routing_reason, routing_reason_message, created_at, assigned_at, first_touch_at)
            SELECT 'Hist ' || g, 'Contact ' || g, '', '+861' || lpad((3000000000 + g)::text, 10, '0'), '', '',
                (ARRAY['web_form','api','ad_platform','phone_400','wecom','csv','manual'])[1 + g %% 7],
                '医疗器械', (ARRAY['华东区','华北区','华南区','西南区'])[1 + g %% 4], '影像设备',
                (ARRAY['A','B','C'])[1 + g %% 3], g %% 101, '', 'hist-' || g, '', g %% 90, '{{}}'::jsonb,
                CASE WHEN g %% 50 = 0 THEN 'pool' WHEN g %% 50 = 1 THEN 'assigned'
                     WHEN g %% 2 = 0 THEN 'converted' ELSE 'lost' END,
                CASE WHEN g %% 50 = 0 THEN NULL ELSE (%s::bigint[])[1 + g %% %s] END,
                'historical', '{{}}'::jsonb, now() - (g || ' minutes')::interval, now() - (g || ' minutes')::interval,
                now() - (g || ' minutes')::interval + interval '7 minutes'
            FROM generate_series(1, %s) AS g
            """,
            [rep_ids, len(rep_ids), count],
        )
    RepLoad.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {RepLoad._meta.db_table} (user_id, open_count, capacity)
                SELECT l.owner_id, count(*), min(m.capacity) FROM {table} l JOIN {Member._meta.db_table} m ON m.user_id = l.owner_id
                WHERE l.status IN ('assigned','accepted','contacted') GROUP BY l.owner_id"""
        )
        # A real tenant's tables were vacuumed long ago; a fresh bulk load would otherwise start
        # autovacuum in the middle of the measurement.
        for model in (Lead, RepLoad, Member, User):
            cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")
    return time.perf_counter() - started


@contextlib.contextmanager
def _indexes_built_after(cursor, table: str):
    """A bulk load into an empty table: its secondary indexes dropped before and built once after
    (a sort instead of a million index insertions; the GIN search index is the dearest), and the
    foreign-key triggers off for this session (the loader names existing reps only). Inside the
    caller's transaction: an interrupted load leaves the table as it was."""
    cursor.execute(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = current_schema() AND i.tablename = %s "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = format('%%I.%%I', i.schemaname, i.indexname)::regclass)",
        [table],
    )
    indexes = cursor.fetchall()
    for name, _definition in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    cursor.execute("SET LOCAL session_replication_role = replica; SET LOCAL maintenance_work_mem = '256MB'")
    yield
    for _name, definition in indexes:
        cursor.execute(definition)
    cursor.execute("SET LOCAL session_replication_role = DEFAULT")


# ------------------------------------------------------------------------------- gunicorn

def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def gunicorn_start(workers: int):
    port = _free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "salesflow.settings.dev", "DEBUG": "0",
           "ALLOWED_HOSTS": ".localhost,localhost,127.0.0.1", "CONN_MAX_AGE": "300"}
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "bench.leads_wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--log-level", "warning", "--backlog", "2048"],
        cwd=ROOT, env=env,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return server, port
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("gunicorn did not start")
            time.sleep(0.2)


def worker_rss_mib(server) -> list[float]:
    try:
        children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    except OSError:
        return []
    sizes = []
    for pid in children:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    sizes.append(round(int(line.split()[1]) / 1024, 1))
        except OSError:
            pass
    return sizes


# ------------------------------------------------------------------------------- HTTP client

class Client:
    def __init__(self, port: int, host: str, key: str):
        self.port, self.host, self.key = port, host, key
        self.conn = None

    def post(self, payload: dict) -> tuple[int, float, float]:
        body = json.dumps(payload, ensure_ascii=False).encode()
        return self.request("POST", "/api/v1/leads", body, {
            "Host": self.host, "Authorization": f"Bearer {self.key}", "Content-Type": "application/json"})

    def get(self, path: str) -> tuple[int, float, float]:
        return self.request("GET", path, None, {"Host": self.host})

    def request(self, method: str, path: str, body, headers: dict) -> tuple[int, float, float]:
        for attempt in range(2):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                started = time.perf_counter()
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                response.read()
                elapsed = time.perf_counter() - started
                return response.status, elapsed, float(response.getheader("X-Bench-DB-Ms") or 0)
            except (http.client.HTTPException, OSError):
                self.conn = None
                if attempt:
                    raise
        raise RuntimeError("unreachable")


def _payload(rng: random.Random, number: int, run: str) -> dict:
    return {
        "company": f"Bench {run} {number}", "contact_name": f"联系人{number}",
        "phone": f"17{rng.randrange(10**9):09d}", "channel": rng.choice(["api", "ad_platform", "phone_400", "wecom"]),
        "industry": "医疗器械", "region": rng.choice(["华东区", "华北区", "华南区", "西南区"]),
        "product_line": rng.choice(["影像设备", "检验试剂"]), "budget_grade": rng.choice(["A", "B", "B", "C"]),
        "industry_match": rng.randint(0, 100), "external_id": f"{run}-{number}",
    }


def _summary(label: str, samples: list[tuple[int, float, float]], wall: float) -> dict:
    latencies = [s[1] * 1000 for s in samples]
    db = [s[2] for s in samples]
    statuses = Counter(s[0] for s in samples)
    result = {
        "requests": len(samples), "wall_s": round(wall, 2), "throughput_rps": round(len(samples) / wall, 1),
        "statuses": dict(statuses),
        "latency_ms": {"median": round(median(latencies), 2), "p95": round(percentile(latencies, 0.95), 2),
                       "p99": round(percentile(latencies, 0.99), 2), "max": round(max(latencies), 2)},
        "db_ms_per_request": {"median": round(median(db), 2), "p95": round(percentile(db, 0.95), 2)},
    }
    print(f"{label}: {json.dumps(result, ensure_ascii=False)}", flush=True)
    return result


def run_steady(port, host, key, *, rate, seconds, duplicates, seed=1, payload=None, path=None) -> dict:
    """Open loop: request i is due at start + i/rate whatever happened to the earlier ones
    (intake, or GET `path` at the same rate)."""
    rng = random.Random(seed)
    total = int(rate * seconds)
    sent: list[dict] = []
    plan = []
    for number in range(total):
        if path:
            plan.append(None)
        elif sent and rng.random() < duplicates:
            plan.append(dict(rng.choice(sent), external_id=""))  # same phone, no external id: a resubmission
        else:
            body = (payload or _payload)(rng, number, f"steady{seed}")
            sent.append(body)
            plan.append(body)
    jobs: queue.Queue = queue.Queue()
    samples, lags = [], []
    lock = threading.Lock()

    def worker():
        client = Client(port, host, key)
        while True:
            item = jobs.get()
            if item is None:
                return
            due, payload = item
            lag = time.perf_counter() - due
            status, elapsed, db_ms = client.get(path) if path else client.post(payload)
            with lock:
                samples.append((status, elapsed, db_ms))
                lags.append(lag)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(48)]
    for thread in threads:
        thread.start()
    start = time.perf_counter()
    for index, payload in enumerate(plan):
        due = start + index / rate
        pause = due - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        jobs.put((due, payload))
    for _ in threads:
        jobs.put(None)
    for thread in threads:
        thread.join()
    result = _summary(f"steady {rate:g} req/s {path or 'intake'}", samples, time.perf_counter() - start)
    result["client_start_lag_ms_p99"] = round(percentile([l * 1000 for l in lags], 0.99), 2)
    return result


def run_saturation(port, host, key, *, clients, seconds, seed=2, payload=None, path=None) -> dict:
    """Closed loop: `clients` connections send back to back (intake, or GET `path`); requests/s."""
    stop_at = time.perf_counter() + seconds
    samples = []
    lock = threading.Lock()

    def worker(n):
        rng = random.Random(f"{seed}-{n}")
        client = Client(port, host, key)
        number = 0
        while time.perf_counter() < stop_at:
            number += 1
            result = client.get(path) if path else client.post((payload or _payload)(rng, number, f"sat{seed}-{n}"))
            with lock:
                samples.append(result)

    start = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return _summary(f"saturation {clients} clients {path or 'intake'}", samples, time.perf_counter() - start)


def bench_intake(options) -> bool:
    from leads.services import intake_key_create
    from salesflow.org.models import TenantSettings

    tenant = bench_tenant("leads")
    ok = True
    try:
        with schema_context(tenant.schema_name):
            started = time.perf_counter()
            rep_ids = build_org(options.reps)
            build_seconds = build_leads(options.existing, rep_ids)
            # The limit is the product's; this measures the server, not the limiter.
            TenantSettings.objects.filter(pk=1).update(intake_rate_limit=10_000_000)
            from django.core.cache import cache
            cache.clear()
            with transaction.atomic():
                _, key = intake_key_create(actor="bench", label="bench")
            print(f"dataset: {options.reps} reps, {options.existing} leads built in {build_seconds:.1f}s "
                  f"(org and all {time.perf_counter() - started:.1f}s)", flush=True)
            record("dataset", {"reps": options.reps, "existing_leads": options.existing, "build_s": round(build_seconds, 1)})
        host = tenant.get_primary_domain().domain
        connections.close_all()
        server, port = gunicorn_start(options.workers)
        try:
            Client(port, host, key).post(_payload(random.Random(0), 0, "warm"))
            if "intake" in options.parts:
                steady = run_steady(port, host, key, rate=options.rate, seconds=options.seconds, duplicates=options.duplicates)
                record("steady", steady)
                ok &= steady["latency_ms"]["p95"] < 25 and steady["latency_ms"]["p99"] < 50
                ok &= set(steady["statuses"]) <= {200, 201}
            if "saturation" in options.parts:
                saturation = run_saturation(port, host, key, clients=options.saturation_clients, seconds=options.saturation_seconds)
                record("saturation", saturation)
            rss = worker_rss_mib(server)
            print(f"web worker RSS after the run (MiB): {rss}", flush=True)
            record("worker_rss_mib", rss)
        finally:
            server.terminate()
            server.wait(timeout=20)
    finally:
        if not options.keep:
            tenant_drop(tenant)
    return ok


# ------------------------------------------------------------------------------- routing contention

def _router(schema, numbers, barrier, results):
    from leads.services import lead_intake, lead_payload_validate
    from psycopg.errors import DeadlockDetected

    connections.close_all()
    outcome = {"ok": 0, "deadlocks": 0, "errors": []}
    with schema_context(schema):
        barrier.wait()
        for number in numbers:
            clean, errors = lead_payload_validate({"contact_name": f"c{number}", "phone": f"16{number:09d}", "budget_grade": "B"})
            try:
                with transaction.atomic():
                    lead_intake(clean={**clean, "channel": "api"}, actor="bench", via="bench")
                outcome["ok"] += 1
            except Exception as exc:
                if isinstance(exc.__cause__, DeadlockDetected) or "deadlock" in str(exc):
                    outcome["deadlocks"] += 1
                else:
                    outcome["errors"].append(repr(exc)[:200])
    connections.close_all()
    results.put(outcome)


def bench_routing(options) -> bool:
    from audit.selectors import audit_chain_verify
    from leads.models import Lead, RepLoad, RoutingDecision, RoutingRule, Strategy
    from salesflow.org.models import Member

    tenant = bench_tenant("route")
    try:
        with schema_context(tenant.schema_name):
            rep_ids = build_org(options.routing_reps)
            Member.objects.update(capacity=options.routing_leads)  # capacity is checked, never reached
            RoutingRule.objects.update(enabled=False)
            rule = RoutingRule.objects.create(name="bench round robin", position=1, strategy=Strategy.ROUND_ROBIN)
            rule.pool_users.set(rep_ids)
        connections.close_all()
        ctx = multiprocessing.get_context("fork")
        barrier, results = ctx.Barrier(options.routing_clients), ctx.Queue()
        share = [list(range(n, options.routing_leads, options.routing_clients)) for n in range(options.routing_clients)]
        processes = [ctx.Process(target=_router, args=(tenant.schema_name, share[n], barrier, results)) for n in range(options.routing_clients)]
        started = time.perf_counter()
        for process in processes:
            process.start()
        outcomes = [results.get() for _ in processes]
        for process in processes:
            process.join()
        wall = time.perf_counter() - started
        with schema_context(tenant.schema_name):
            counts = Counter(Lead.objects.values_list("owner_id", flat=True))
            spread = max(counts.values()) - min(counts.values()) if counts else None
            breaches = sum(1 for m in Member.objects.filter(user_id__in=rep_ids)
                           if RepLoad.objects.filter(user_id=m.user_id, open_count__gt=m.capacity).exists())
            order = list(RoutingDecision.objects.order_by("id").values_list("assignee_id", flat=True))
            window = options.routing_reps
            strict = all(len(set(order[i:i + window])) == window for i in range(0, len(order) - window + 1))
            verdict = audit_chain_verify()
        result = {
            "clients": options.routing_clients, "reps": options.routing_reps, "leads": sum(o["ok"] for o in outcomes),
            "spread": spread, "every_window_of_reps_distinct": strict, "capacity_breaches": breaches,
            "deadlocks": sum(o["deadlocks"] for o in outcomes), "errors": sum(len(o["errors"]) for o in outcomes),
            "sample_errors": [e for o in outcomes for e in o["errors"]][:3],
            "audit_chain_intact": verdict.intact, "audit_entries": verdict.count,
            "wall_s": round(wall, 1), "throughput_leads_per_s": round(sum(o["ok"] for o in outcomes) / wall, 1),
        }
        print(f"routing contention: {json.dumps(result, ensure_ascii=False)}", flush=True)
        record("routing", result)
        return (spread is not None and spread <= 1 and breaches == 0 and result["deadlocks"] == 0
                and result["errors"] == 0 and verdict.intact)
    finally:
        if not options.keep:
            tenant_drop(tenant)


def main(argv) -> int:
    options = _parse(argv)
    parts = set(options.parts.split(","))
    ok = True
    if parts & {"intake", "saturation"}:
        ok &= bench_intake(options)
    if "routing" in parts:
        ok &= bench_routing(options)
    if "pools" in parts:
        from bench.leads_pools import bench_pools

        ok &= bench_pools(options)
    if "cpu" in parts:
        from bench.leads_cpu import bench_cpu

        ok &= bench_cpu(options)
    if "profile" in parts:
        from bench.leads_profile import bench_profile

        ok &= bench_profile(options)
    return 0 if ok else 1
