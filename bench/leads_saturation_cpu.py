"""CPU per request of every process involved, during intake and `/healthz` saturation (issue 13).

The saturation share (intake ÷ `/healthz` through the same gunicorn) follows the CPU each request
costs the whole machine when the machine is the limit. This diagnostic starts gunicorn (sync
workers, DEBUG off) on the kept one-pool tenant of bench/leads_pools.py, drives each path with 8
closed-loop clients for 5 s, and divides the CPU used meanwhile by the requests answered, per
process kind: gunicorn (master and workers), the PostgreSQL backends of the benchmark database,
this client process and redis-server; with the machine's busy share. Run after the `pools` part
has built the tenants (arguments: workers, rounds):

    .venv/bin/python scripts/stack.py exec -- env DATABASE_URL=postgres://postgres@127.0.0.1:5432/<db>_bench \
        .venv/bin/python -m bench.leads_saturation_cpu 2 2
"""
import json
import os
import subprocess
import sys
import time

import django


def _children(pid: int) -> list[int]:
    found = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as children:
            found += [int(p) for p in children.read().split()]
    return found


def _backends(database: str) -> list[int]:
    import psycopg

    with psycopg.connect(os.environ["DATABASE_URL"].rsplit("/", 1)[0].replace("postgres://", "postgresql://", 1)
                         + "/postgres", autocommit=True) as conn:
        return [row[0] for row in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [database])]


def _snapshot(server, database: str, redis_pid: int) -> dict:
    from bench.support import process_cpu_seconds

    times = os.times()
    with open("/proc/stat") as stat:
        machine = [int(x) for x in stat.readline().split()[1:]]
    return {"gunicorn": sum(process_cpu_seconds(p) for p in [server.pid, *_children(server.pid)]),
            "postgres": {pid: process_cpu_seconds(pid) for pid in _backends(database)},
            "client": times.user + times.system, "redis": process_cpu_seconds(redis_pid), "machine": machine}


def _per_request(before: dict, after: dict, requests: int) -> dict:
    postgres = sum(v - before["postgres"].get(pid, 0.0) for pid, v in after["postgres"].items() if v == v)
    spent = {"gunicorn": after["gunicorn"] - before["gunicorn"], "postgres": postgres,
             "client": after["client"] - before["client"], "redis": after["redis"] - before["redis"]}
    figures = {name: round(seconds / requests * 1000, 3) for name, seconds in spent.items()}
    figures["all"] = round(sum(spent.values()) / requests * 1000, 3)
    machine = [b - a for a, b in zip(before["machine"], after["machine"])]
    figures["machine_busy_pct"] = round(100 * (sum(machine) - machine[3] - machine[4]) / sum(machine), 1)
    return figures


def main(workers: int, rounds: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesflow.settings.dev")
    django.setup()
    from django.db import connection, connections

    from bench.bench_leads import gunicorn_start, run_saturation
    from bench.leads_pools import _tenant, _warm

    shape = _tenant("300", 300, 10000, regions=False)
    database = connection.settings_dict["NAME"]
    connections.close_all()
    redis_pid = int(subprocess.run(["pgrep", "-x", "redis-server"], capture_output=True, text=True).stdout.split()[0])
    server, port = gunicorn_start(workers)
    try:
        _warm(port, workers, shape)
        for _ in range(rounds):
            for path in ("/healthz", "intake"):
                before = _snapshot(server, database, redis_pid)
                target = {"path": "/healthz"} if path == "/healthz" else {"payload": shape["payload"]}
                result = run_saturation(port, shape["host"], shape["key"], clients=8, seconds=5, seed=f"cpu{time.time()}",
                                        **target)
                figures = _per_request(before, _snapshot(server, database, redis_pid), result["requests"])
                print(f"{path}: {result['throughput_rps']} req/s; CPU ms per request {json.dumps(figures)}; "
                      f"load {os.getloadavg()[0]:.1f}", flush=True)
    finally:
        server.terminate()
        server.wait(timeout=20)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2, int(sys.argv[2]) if len(sys.argv) > 2 else 2)
