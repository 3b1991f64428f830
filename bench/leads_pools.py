"""Intake against the size of the pool, beside the stack's floor (`/healthz`) in the same run.

Data shape, per tenant: `size` reps, all in one region (华东区), one team, selling 影像设备 in
医疗器械, capacity 1,000,000 (never reached); --pool-existing historical leads spread over them
(bench_leads.build_leads); the seeds' default rules. Every lead is B-grade, 华东区, 影像设备: the
rule "B 级 → 区域+产品线轮询" (round robin, rep's region and product line match the lead's)
takes it, so every rep of the tenant is eligible for every lead. The "4 regions" row is the
old shape of bench_leads (200 reps in 10 teams over 4 regions, leads of mixed grade, region
and product line, 20 % C-grade to the pool).

For each gunicorn size (sync workers, DEBUG off), --pool-runs rounds of, per tenant in turn:
/healthz saturation and intake saturation (--pool-clients closed-loop connections,
--pool-seconds each; which goes first alternates, and the tenants' order is reversed every other
round, so a drift of the shared machine's speed weighs on both sides alike); then, per tenant, a
steady open-loop --pool-rate (100/s) of intake and of /healthz. Ratios are to the /healthz figure
of the same round, and to the 10-rep pool's intake in the same round; the table takes medians
over rounds. --pool-existing takes a list (10000,1000000): one set of tenants per size, all in the
same gunicorn, so one command gives the whole table. Tenants are kept (bpool_<reps>_<leads>) and
reused by the next run.
"""
import json
import os
import random
import time

from django.db import connection, connections, transaction
from django_tenants.utils import schema_context

from bench.bench_leads import (Client, _payload, build_leads, build_org, gunicorn_start, run_saturation, run_steady)
from bench.support import bench_tenant, median, record, tenant_drop

ONE_POOL = {"region": "华东区", "product_line": "影像设备", "industry": "医疗器械", "budget_grade": "B"}


def build_pool(size: int) -> list[int]:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    from salesflow.org.models import Member, Region, Role, Team

    User = get_user_model()
    region = Region.objects.create(name=ONE_POOL["region"])
    team = Team.objects.create(name="bench-one-pool", region=region)
    password = make_password("bench-password-1")
    users = User.objects.bulk_create([User(username=f"prep{i:04d}", email=f"prep{i:04d}@bench.example", password=password)
                                      for i in range(size)])
    Member.objects.bulk_create([
        Member(user=user, full_name=f"Rep {i}", role=Role.REP, team=team, region=region, industries=["医疗器械"],
               product_lines=["影像设备"], years_experience=i % 12, capacity=1_000_000)
        for i, user in enumerate(users)
    ])
    return [u.pk for u in users]


def one_pool_payload(rng: random.Random, number: int, run: str) -> dict:
    return {"company": f"Bench {run} {number}", "contact_name": f"联系人{number}", "phone": f"17{rng.randrange(10**9):09d}",
            "channel": "api", "industry_match": rng.randint(0, 100), "external_id": f"{run}-{number}", **ONE_POOL}


def _schema(label: str, existing: int) -> str:
    return f"bpool_{label}_{existing}"


def _kept_tenant(schema: str):
    """The tenant a previous run built and kept for this shape, if it is complete."""
    from salesflow.tenancy.models import Tenant

    tenant = Tenant.objects.filter(schema_name=schema).first()
    if tenant is not None and not tenant.name.endswith(" built"):
        tenant_drop(tenant)  # a build that was interrupted: start again
        return None
    return tenant


def _tenant(label: str, size: int, existing: int, *, regions: bool, reuse: bool = True):
    """One tenant per shape. With `reuse` (the default) it is kept in the benchmark database under a
    name fixed by the shape (bpool_<label>_<existing>) and found again by the next run: the
    1,000,000-lead tables are built once (`--pool-rebuild` drops and builds them again). Leads
    taken in by earlier runs stay; they are a few thousand beside the stored ones."""
    from leads.services import intake_key_create
    from salesflow.org.models import Member, TenantSettings
    from salesflow.tenancy.models import Tenant
    from salesflow.tenancy.services import tenant_provision

    schema = _schema(label, existing)
    tenant = _kept_tenant(schema) if reuse else None
    started = time.perf_counter()
    if tenant is None:
        if reuse:
            tenant = tenant_provision(schema=schema, domain=f"{schema.replace('_', '-')}.bench.localhost",
                                      name=f"Bench {schema}", admin_email=f"admin@{schema.replace('_', '-')}.example.com",
                                      admin_password="bench-password-1").tenant
        else:
            tenant = bench_tenant(f"pool{label}")
        with schema_context(tenant.schema_name):
            rep_ids = build_org(size) if regions else build_pool(size)
            if regions:
                Member.objects.update(capacity=1_000_000)
            build_leads(existing, rep_ids)
            TenantSettings.objects.filter(pk=1).update(intake_rate_limit=10_000_000)
        Tenant.objects.filter(pk=tenant.pk).update(name=f"Bench {schema} built")
        print(f"tenant {label}: {size} reps, {existing} leads, built in {time.perf_counter() - started:.1f}s", flush=True)
    else:
        print(f"tenant {label}: {size} reps, {existing} leads, kept from an earlier run ({schema})", flush=True)
    with schema_context(tenant.schema_name), transaction.atomic():
        _, key = intake_key_create(actor="bench", label="bench")
    return {"label": label, "reps": size, "tenant": tenant, "host": tenant.get_primary_domain().domain, "key": key,
            "payload": _payload if regions else one_pool_payload, "existing": existing, "kept": reuse}


def _round(port, shape, options, seed, *, healthz_first: bool) -> dict:
    """/healthz and intake saturation through the same gunicorn, one after the other; which goes
    first alternates from round to round so a drift of the machine's speed weighs on both alike."""
    def measure(path):
        if path == "/healthz":
            return run_saturation(port, shape["host"], shape["key"], clients=options.pool_clients,
                                  seconds=options.pool_seconds, path="/healthz", seed=seed)
        return run_saturation(port, shape["host"], shape["key"], clients=options.pool_clients,
                              seconds=options.pool_seconds, payload=shape["payload"], seed=seed)

    order = ("/healthz", "intake") if healthz_first else ("intake", "/healthz")
    results = {path: measure(path) for path in order}
    health, intake = results["/healthz"], results["intake"]
    return {"healthz_rps": health["throughput_rps"], "intake_rps": intake["throughput_rps"],
            "share": round(intake["throughput_rps"] / health["throughput_rps"], 3), "healthz_first": healthz_first,
            "intake_statuses": intake["statuses"], "intake_p95_ms": intake["latency_ms"]["p95"]}


def _steady(port, shape, options, seed, *, healthz_first: bool) -> dict:
    """Open loop at --pool-rate requests/s: intake (every lead new) and /healthz at the same rate."""
    def measure(path):
        if path == "/healthz":
            return run_steady(port, shape["host"], shape["key"], rate=options.pool_rate, seconds=options.pool_steady_seconds,
                              duplicates=0.0, seed=seed, path="/healthz")
        return run_steady(port, shape["host"], shape["key"], rate=options.pool_rate, seconds=options.pool_steady_seconds,
                          duplicates=0.0, seed=seed, payload=shape["payload"])

    order = ("/healthz", "intake") if healthz_first else ("intake", "/healthz")
    results = {path: measure(path) for path in order}
    return {"intake": results["intake"], "healthz": results["/healthz"]}


def _existing_sizes(options) -> list[int]:
    return [int(n) for n in str(options.pool_existing).split(",") if n]


def bench_pools(options) -> bool:
    from django.core.cache import cache

    sizes = [int(n) for n in options.pool_sizes.split(",") if n]
    shapes = []
    try:
        for existing in _existing_sizes(options):
            for size in sizes:
                shapes.append(_tenant(str(size), size, existing, regions=False, reuse=options.pool_reuse))
            if options.pool_regions_row:
                shapes.append(_tenant("4regions", 200, existing, regions=True, reuse=options.pool_reuse))
        cache.clear()
        connections.close_all()
        table = []
        for workers in [int(n) for n in options.pool_workers.split(",") if n]:
            table += _bench_workers(workers, shapes, options)
        record("pools", table)
        print("pools table: " + json.dumps(table, ensure_ascii=False), flush=True)
        if table:
            print(table_markdown(table), flush=True)
        return all(set(row["statuses"]) <= {"200", "201"} for row in table)
    finally:
        for shape in shapes:
            if not (options.keep or shape["kept"]):
                tenant_drop(shape["tenant"])


def _warm(port: int, workers: int, shape: dict) -> None:
    """Every worker's memo for the tenant, and the pool's seats, as in a server that has been up."""
    client = Client(port, shape["host"], shape["key"])
    for number in range(workers * 4):
        client.post(shape["payload"](random.Random(number), number, f"warm{workers}-{time.time()}"))
    # The pools' seats were written by the warm-up: statistics as autovacuum would keep them.
    with schema_context(shape["tenant"].schema_name), connection.cursor() as cursor:
        cursor.execute("ANALYZE leads_poolseat; ANALYZE leads_repload")
    connections.close_all()


def _bench_workers(workers: int, shapes: list[dict], options) -> list[dict]:
    """Rounds over every shape, the order of the shapes reversed every other round and /healthz and
    intake swapping places each round (ABBA), then the steady rate per shape (order alternating too)."""
    server, port = gunicorn_start(workers)
    rounds = {id(shape): [] for shape in shapes}
    steady = {}
    try:
        for shape in shapes:
            _warm(port, workers, shape)
        for run in range(options.pool_runs):
            ordered = shapes if run % 2 == 0 else shapes[::-1]
            for shape in ordered:
                # Each shape's order flips from round to round (by its place in `shapes`: its place in
                # `ordered` would flip twice when the shapes' order is reversed too).
                result = _round(port, shape, options, seed=f"{workers}-{run}-{time.time()}",
                                healthz_first=(run + shapes.index(shape)) % 2 == 0)
                result["load1"] = round(os.getloadavg()[0], 2)
                print(f"workers {workers} round {run} {shape['label']} ({shape['existing']} leads): {json.dumps(result)}",
                      flush=True)
                rounds[id(shape)].append(result)
        if options.pool_steady_seconds > 0:
            for number, shape in enumerate(shapes):
                steady[id(shape)] = _steady(port, shape, options, seed=f"{workers}-{number}-{time.time()}",
                                            healthz_first=number % 2 == 0)
    finally:
        server.terminate()
        server.wait(timeout=20)
    return [_row(workers, shape, rounds[id(shape)], steady.get(id(shape))) for shape in shapes]


def _row(workers: int, shape: dict, runs: list[dict], steady: dict | None) -> dict:
    row = {
        "workers": workers, "shape": shape["label"], "reps": shape["reps"], "existing": shape["existing"],
        "healthz_rps_median": median([r["healthz_rps"] for r in runs]),
        "intake_rps_median": median([r["intake_rps"] for r in runs]),
        "share_median": median([r["share"] for r in runs]),
        "intake_rps_runs": [r["intake_rps"] for r in runs], "healthz_rps_runs": [r["healthz_rps"] for r in runs],
        "share_runs": [r["share"] for r in runs], "load1": [r["load1"] for r in runs],
        "statuses": sorted({str(k) for r in runs for k in r["intake_statuses"]}),
    }
    if steady:
        intake, health = steady["intake"], steady["healthz"]
        row.update({
            "steady_rps": intake["throughput_rps"], "steady_p95_ms": intake["latency_ms"]["p95"],
            "steady_p99_ms": intake["latency_ms"]["p99"], "steady_median_ms": intake["latency_ms"]["median"],
            "steady_healthz_rps": health["throughput_rps"], "steady_healthz_p95_ms": health["latency_ms"]["p95"],
        })
        row["statuses"] = sorted(set(row["statuses"]) | {str(k) for k in intake["statuses"]})
    return row


def table_markdown(rows: list[dict]) -> str:
    """The README table: one line per (workers, stored leads, shape); ratios to the same run's figures.

    "÷ at 10 reps" is the median over rounds of the intake rate at N reps over the one at 10 reps
    measured in the same gunicorn and run (same workers, same stored leads)."""
    base = {(row["workers"], row["existing"]): row for row in rows if row["shape"] == "10"}
    lines = ["| workers | eligible reps per lead | stored leads | /healthz req/s | intake leads/s | intake ÷ /healthz "
             "(rounds) | intake ÷ intake at 10 reps | steady: intake achieved/s, p50 / p95 / p99 ms | steady: /healthz p95 ms |",
             "|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        shape = "≈50 (200 reps over 4 regions, mixed grades)" if row["shape"] == "4regions" else row["shape"]
        ten = base.get((row["workers"], row["existing"]))
        versus = "—"
        if ten and row["shape"] != "4regions":
            ratios = [a / b for a, b in zip(row["intake_rps_runs"], ten["intake_rps_runs"]) if b]
            versus = f"{median(ratios):.0%}" if ratios else "—"
        shares = ", ".join(f"{s:.0%}" for s in row["share_runs"])
        steady = (f"{row['steady_rps']}/s, {row['steady_median_ms']:.1f} / {row['steady_p95_ms']:.1f} / {row['steady_p99_ms']:.1f}"
                  if "steady_rps" in row else "not run")
        health = f"{row['steady_healthz_p95_ms']:.1f}" if "steady_healthz_p95_ms" in row else "—"
        lines.append(f"| {row['workers']} | {shape} | {row['existing']:,} | {row['healthz_rps_median']:.0f} "
                     f"| {row['intake_rps_median']:.0f} | {row['share_median']:.0%} ({shares}) | {versus} | {steady} | {health} |")
    return "\n".join(lines)


if __name__ == "__main__":  # DJANGO_SETTINGS_MODULE=salesflow.settings.dev python -m bench.leads_pools <results.json>
    import sys


    figures = json.loads(open(sys.argv[1]).read())["figures"]
    print(table_markdown(figures["pools"]))
