"""CPU and instructions per request, intake against `/healthz`, in one Django process (issue 13).

The machine is shared, so wall-clock rates move with everyone else's work; what one request
costs the worker does not. Two measures, each intake beside `/healthz` in the same process:

- CPU time (`time.process_time`) per request, over --cpu-requests requests of each, alternating
  blocks of 25 so a change in the machine's speed falls on both alike;
- instructions per request under `valgrind --tool=callgrind` (exact and independent of the load):
  this module is run again as a program under callgrind, which zeroes its counters when the
  measured loop starts (`os.getppid()`) and writes them out when it ends (`os.getpgrp()`).

Both call the WSGI application directly (gunicorn's HTTP parsing is not included; it is the same
for both paths) with DEBUG off, through the whole middleware stack, on the one-pool tenant of
bench/leads_pools.py. The database server's CPU is not in these figures: the statements per
request are counted instead (`statements`).

    make bench BENCH_ARGS="--only leads --parts cpu [--profile-reps 300] [--cpu-requests 400] [--cpu-callgrind 40]"
"""
import io
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

from bench.support import process_cpu_seconds

ROOT = Path(__file__).resolve().parent.parent


def _environ(host: str, key: str, path: str, body: bytes | None) -> dict:
    environ = {
        "REQUEST_METHOD": "POST" if body is not None else "GET", "PATH_INFO": path, "SCRIPT_NAME": "",
        "QUERY_STRING": "", "SERVER_NAME": host, "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": host, "REMOTE_ADDR": "127.0.0.1", "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body or b""),
        "wsgi.errors": sys.stderr, "wsgi.version": (1, 0), "wsgi.multithread": False, "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    if body is not None:
        environ.update({"CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(body)),
                        "HTTP_AUTHORIZATION": f"Bearer {key}"})
    return environ


class Caller:
    """Calls the WSGI application as gunicorn would, for /healthz or one new B-grade lead."""

    def __init__(self, host: str, key: str, seed: str):
        from bench.leads_pools import one_pool_payload
        from salesflow.wsgi import application

        self.application, self.host, self.key = application, host, key
        self.rng, self.payload, self.number, self.seed = random.Random(seed), one_pool_payload, 0, seed

    def _call(self, environ) -> str:
        status = []
        result = self.application(environ, lambda s, headers, exc_info=None: status.append(s))
        try:
            b"".join(result)
        finally:
            getattr(result, "close", lambda: None)()
        return status[0]

    def healthz(self) -> str:
        return self._call(_environ(self.host, self.key, "/healthz", None))

    def intake(self) -> str:
        self.number += 1
        body = json.dumps(self.payload(self.rng, self.number, f"cpu-{self.seed}"), ensure_ascii=False).encode()
        return self._call(_environ(self.host, self.key, "/api/v1/leads", body))


def cpu_per_request(host: str, key: str, requests: int, block: int = 25) -> dict:
    """Milliseconds of CPU per /healthz and per intake, alternating blocks: this process's, and that
    of the PostgreSQL backend serving it (read from /proc: the server runs on this machine; ticks of
    10 ms, so taken over many requests)."""
    from django.db import connection

    caller = Caller(host, key, f"{time.time()}")
    for _ in range(20):  # warm: memos, prepared statements, the pool's seats
        assert caller.intake().startswith("201"), "intake did not answer 201"
        assert caller.healthz().startswith("200")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    spent = {"healthz": 0.0, "intake": 0.0}
    server = {"healthz": 0.0, "intake": 0.0}
    done = {"healthz": 0, "intake": 0}
    while done["intake"] < requests:
        for name in ("healthz", "intake") if done["intake"] % (2 * block) == 0 else ("intake", "healthz"):
            call = getattr(caller, name)
            server_before, started = process_cpu_seconds(backend), time.process_time()
            for _ in range(block):
                status = call()
            spent[name] += time.process_time() - started
            server[name] += process_cpu_seconds(backend) - server_before
            done[name] += block
            assert status[:3] in ("200", "201"), status
    result = {name: round(spent[name] / done[name] * 1000, 3) for name in spent}
    result.update({f"{name}_postgres": round(server[name] / done[name] * 1000, 3) for name in server})
    result["intake_over_healthz"] = round(result["intake"] / result["healthz"], 2)
    result["intake_over_healthz_with_postgres"] = round(
        (result["intake"] + result["intake_postgres"]) / (result["healthz"] + result["healthz_postgres"]), 2)
    return result


def postgres_cpu_by_statement(host: str, key: str, requests: int) -> dict[str, float]:
    """The PostgreSQL backend's CPU ms per intake, by statement (its first 60 characters): /proc ticks
    read around each statement and summed over `requests` intakes (ticks are 10 ms: take hundreds).
    What is left over ("BEGIN/COMMIT and between") is the transaction's own commands."""
    import collections

    from django.db import connection

    caller = Caller(host, key, f"bystatement{time.time()}")
    caller.intake()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    spent: collections.Counter = collections.Counter()

    def timed(execute, sql, params, many, context):
        before = process_cpu_seconds(backend)
        try:
            return execute(sql, params, many, context)
        finally:
            spent[" ".join(sql.split())[:60]] += process_cpu_seconds(backend) - before

    total = process_cpu_seconds(backend)
    with connection.execute_wrapper(timed):
        for _ in range(requests):
            caller.intake()
    total = process_cpu_seconds(backend) - total
    result = {sql: round(seconds / requests * 1000, 3) for sql, seconds in spent.most_common() if seconds}
    result["BEGIN/COMMIT and between"] = round((total - sum(spent.values())) / requests * 1000, 3)
    result["total"] = round(total / requests * 1000, 3)
    return result


def statements_per_request(host: str, key: str, requests: int = 20) -> dict:
    """SQL statements per request (BEGIN and COMMIT not counted: psycopg sends them itself), the
    mean over `requests` of each after a warm-up."""
    from django.db import connection

    caller = Caller(host, key, f"statements{time.time()}")
    for _ in range(5):
        caller.intake()
    counts = {}
    for name in ("healthz", "intake"):
        seen = []
        with connection.execute_wrapper(lambda execute, sql, *args: seen.append(sql) or execute(sql, *args)):
            for _ in range(requests):
                getattr(caller, name)()
        counts[name] = round(len(seen) / requests, 2)
    return counts


# ------------------------------------------------------------------------------- under callgrind

def _python() -> str:
    return sys.executable  # the virtualenv's interpreter (not a shim script: valgrind must start Python itself)


def instructions_per_request(host: str, key: str, requests: int, out_dir: Path) -> dict:
    """Run this module under callgrind once per path; instructions of the measured loop / requests."""
    out_dir.mkdir(parents=True, exist_ok=True)
    figures = {}
    for path in ("healthz", "intake"):
        stem = out_dir / f"callgrind-{path}-{int(time.time())}"
        command = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={stem}.%p", "--zero-before=getppid",
                   "--dump-before=getpgrp", _python(), "-m", "bench.leads_cpu", host, key, path, str(requests)]
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "salesflow.settings.dev", "DEBUG": "0", "PYTHONPATH": str(ROOT)}
        subprocess.run(command, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        dumps = sorted(out_dir.glob(f"{stem.name}.*.1"))
        if not dumps:
            raise RuntimeError(f"callgrind wrote no dump of the measured loop for {path}")
        total = next(int(line.split()[1]) for line in dumps[-1].read_text(errors="replace").splitlines()
                     if line.startswith("summary:"))
        figures[path] = round(total / requests)
        figures[f"{path}_file"] = str(dumps[-1].relative_to(ROOT))
    figures["intake_over_healthz"] = round(figures["intake"] / figures["healthz"], 2)
    return figures


class _StoppedClock:
    """`time` with monotonic() stopped: what a process remembers for a few seconds (salesflow.memo,
    the host → tenant map) stays remembered through the measured loop. Under callgrind a request
    runs ~50 times slower, so the 5-second reloads (the rep roster among them) would fall on every
    few requests instead of once per hundreds as at 100 leads/s; their cost is not per request."""

    def __init__(self):
        self.stopped_at = time.monotonic()

    def monotonic(self):
        return self.stopped_at

    def __getattr__(self, name):
        return getattr(time, name)


def _measured_loop(host: str, key: str, path: str, requests: int) -> None:
    import django

    django.setup()
    import salesflow.memo
    import salesflow.tenancy.middleware

    caller = Caller(host, key, f"cg{time.time()}")
    call = getattr(caller, path)
    for _ in range(20):
        call()
        caller.intake()
    salesflow.memo.time = salesflow.tenancy.middleware.time = _StoppedClock()
    for _ in range(3):  # what expired during the (slow) warm-up is loaded again, once
        call()
        caller.intake()
    os.getppid()  # callgrind: counters zeroed here (--zero-before=getppid)
    for _ in range(requests):
        status = call()
    os.getpgrp()  # callgrind: counters written here (--dump-before=getpgrp)
    assert status[:3] in ("200", "201"), status


if __name__ == "__main__":  # run by instructions_per_request under valgrind
    _measured_loop(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))


def bench_cpu(options) -> bool:
    """The `cpu` part: statements, CPU and (with --cpu-callgrind N) instructions per request."""
    from django.db import connections
    from django.test.utils import override_settings

    from bench.leads_pools import _tenant
    from bench.support import record

    shape = _tenant(str(options.profile_reps), options.profile_reps, int(str(options.pool_existing).split(",")[0]), regions=False)
    connections.close_all()
    with override_settings(DEBUG=False):
        statements = statements_per_request(shape["host"], shape["key"])
        print(f"statements per request: {json.dumps(statements)}", flush=True)
        record("cpu_statements", statements)
        cpu = cpu_per_request(shape["host"], shape["key"], options.cpu_requests)
        print(f"CPU ms per request ({options.cpu_requests} of each, load {os.getloadavg()[0]:.1f}): {json.dumps(cpu)}",
              flush=True)
        record("cpu_ms", cpu)
        by_statement = postgres_cpu_by_statement(shape["host"], shape["key"], options.cpu_requests)
        print("PostgreSQL backend CPU ms per intake, by statement: " + json.dumps(by_statement, ensure_ascii=False),
              flush=True)
        record("cpu_postgres_by_statement", by_statement)
    connections.close_all()
    if options.cpu_callgrind:
        instructions = instructions_per_request(shape["host"], shape["key"], options.cpu_callgrind,
                                                ROOT / "bench" / "results")
        print(f"instructions per request (callgrind, {options.cpu_callgrind} of each): {json.dumps(instructions)}",
              flush=True)
        record("cpu_instructions", instructions)
    return True
