"""Where one intake's cost goes, at a pool of --profile-reps eligible reps (issue 13).

`make bench BENCH_ARGS="--only leads --parts profile"`: builds the one-pool tenant of
bench/leads_pools.py, then
- lists the SQL statements of one intake (in-process, through the whole middleware stack), with
  EXPLAIN (ANALYZE, BUFFERS) of each non-transaction statement of the second intake;
- starts gunicorn (one sync worker, DEBUG off), drives it with --pool-clients closed-loop
  connections for --profile-seconds while py-spy samples the worker, and prints the functions
  holding most of the worker's samples (self and inclusive), beside /healthz through the same worker.
"""
import collections
import json
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

from django.db import connection
from django.test import Client as DjangoClient
from django.test.utils import CaptureQueriesContext, override_settings
from django_tenants.utils import schema_context

from bench.bench_leads import gunicorn_start, run_saturation
from bench.leads_pools import _tenant, one_pool_payload
from bench.support import record, tenant_drop


def statements_of_one_intake(shape: dict) -> list[str]:
    client = DjangoClient(HTTP_HOST=shape["host"], HTTP_AUTHORIZATION=f"Bearer {shape['key']}")
    rng = random.Random(7)
    for number in range(2):  # the first warms the process's memo; the second is the steady state
        body = json.dumps(one_pool_payload(rng, number, "profile"), ensure_ascii=False)
        with CaptureQueriesContext(connection) as captured:
            response = client.post("/api/v1/leads", body, content_type="application/json")
        assert response.status_code == 201, response.content
    return [query["sql"] for query in captured.captured_queries]


def cpu_profile(shape: dict, count: int = 300) -> None:
    """CPU time (not wall: the box is shared) of `count` in-process intakes, by function, and of
    as many /healthz: what the worker spends in Python, without the HTTP server."""
    import cProfile
    import io
    import pstats

    client = DjangoClient(HTTP_HOST=shape["host"], HTTP_AUTHORIZATION=f"Bearer {shape['key']}")
    rng = random.Random(11)
    bodies = [json.dumps(one_pool_payload(rng, n, "cpu"), ensure_ascii=False) for n in range(count)]
    for path in ("/healthz", "/api/v1/leads"):
        other = random.Random(29)
        plain = [json.dumps(one_pool_payload(other, n, "plain"), ensure_ascii=False) for n in range(count // 2)]
        started = time.process_time()
        for body in plain:  # without the profiler first: CPU per request as the worker spends it
            if path == "/healthz":
                client.get(path)
            else:
                client.post(path, body, content_type="application/json")
        spent = (time.process_time() - started) / len(plain) * 1000
        print(f"cpu {path}: {spent:.2f} ms of this process's CPU per request (no profiler)", flush=True)
        record(f"profile_cpu_plain_ms{path.replace('/', '_')}", round(spent, 2))
        profiler = cProfile.Profile(time.process_time)
        started = time.process_time()
        profiler.enable()
        for body in bodies:
            if path == "/healthz":
                client.get(path)
            else:
                client.post(path, body, content_type="application/json")
        profiler.disable()
        spent = (time.process_time() - started) / count * 1000
        print(f"cpu {path}: {spent:.2f} ms of this process's CPU per request (profiler on)", flush=True)
        record(f"profile_cpu_ms{path.replace('/', '_')}", round(spent, 2))
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(45)
        print(text.getvalue()[-9000:], flush=True)


def _explain(shape: dict, statements: list[str]) -> None:
    with schema_context(shape["tenant"].schema_name), connection.cursor() as cursor:
        cursor.execute("BEGIN")
        try:
            for sql in statements:
                if not sql.lstrip().upper().startswith(("SELECT", "WITH", "INSERT", "UPDATE")):
                    continue
                cursor.execute("SAVEPOINT explained")
                try:
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS, TIMING, SUMMARY) " + sql)
                except Exception as error:  # a replayed INSERT may meet the row the intake made
                    cursor.execute("ROLLBACK TO SAVEPOINT explained")
                    print(f"EXPLAIN {sql[:80]}…: {error}".replace("\n", " "), flush=True)
                    continue
                plan = [row[0] for row in cursor.fetchall()]
                shown = plan if "pool" in sql else plan[-6:]  # the pick in full, the rest's timings
                print("EXPLAIN " + sql[:160].replace("\n", " ") + "\n    " + "\n    ".join(shown), flush=True)
        finally:
            cursor.execute("ROLLBACK")


def _worker_pid(server) -> int:
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    return int(children[0])


def _py_spy(pid: int, seconds: float, output: Path) -> subprocess.Popen | None:
    tool = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(tool).exists():
        print("py-spy not installed: no profile (pip install py-spy)", flush=True)
        return None
    return subprocess.Popen([tool, "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate", "200",
                             "--format", "raw", "--output", str(output), "--nonblocking"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def summarise(raw: Path, top: int = 25) -> dict:
    """Self and inclusive share of samples per function, from py-spy's collapsed stacks."""
    own, inclusive, total = collections.Counter(), collections.Counter(), 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [frame.split(" (")[0] + " " + frame.split("(")[-1].split(":")[0].rsplit("/", 2)[-1].rstrip(")")
                  for frame in stack.split(";")[1:]]
        count = int(count)
        total += count
        if frames:
            own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    share = lambda c: round(100 * c / max(total, 1), 1)  # noqa: E731
    return {"samples": total, "self": [(f, share(c)) for f, c in own.most_common(top)],
            "inclusive": [(f, share(c)) for f, c in inclusive.most_common(top)]}


def bench_profile(options) -> bool:
    shape = _tenant(f"prof{options.profile_reps}", options.profile_reps, int(str(options.pool_existing).split(",")[0]), regions=False,
                    reuse=False)
    try:
        statements = statements_of_one_intake(shape)
        print(f"statements per intake: {len(statements)}", flush=True)
        for sql in statements:
            print("  " + sql[:220].replace("\n", " "), flush=True)
        record("profile_statements", statements)
        with schema_context(shape["tenant"].schema_name), connection.cursor() as cursor:
            cursor.execute("ANALYZE leads_poolseat; ANALYZE leads_repload")  # as autovacuum would have
        _explain(shape, statements)
        with override_settings(DEBUG=False):  # as under gunicorn: no query log
            cpu_profile(shape)
        connection.close()
        server, port = gunicorn_start(1)
        try:
            for number in range(20):
                run_saturation(port, shape["host"], shape["key"], clients=1, seconds=0.2,
                               payload=one_pool_payload, seed=f"warm{number}")
            health = run_saturation(port, shape["host"], shape["key"], clients=options.pool_clients,
                                    seconds=options.profile_seconds, path="/healthz", seed="h")
            raw = Path("bench/results") / f"profile-{int(time.time())}.txt"
            raw.parent.mkdir(exist_ok=True)
            spy = _py_spy(_worker_pid(server), options.profile_seconds, raw)
            intake = run_saturation(port, shape["host"], shape["key"], clients=options.pool_clients,
                                    seconds=options.profile_seconds, payload=one_pool_payload, seed="p")
            if spy is not None:
                spy.wait(timeout=60)
                profile = summarise(raw)
                record("profile", profile)
                print("py-spy self: " + json.dumps(profile["self"], ensure_ascii=False), flush=True)
                print("py-spy inclusive: " + json.dumps(profile["inclusive"], ensure_ascii=False), flush=True)
            record("profile_rates", {"healthz_rps": health["throughput_rps"], "intake_rps": intake["throughput_rps"]})
        finally:
            server.terminate()
            server.wait(timeout=20)
        return True
    finally:
        if not options.keep:
            tenant_drop(shape["tenant"])
