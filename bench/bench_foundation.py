"""Foundation benchmarks: tenant provisioning, audit append throughput, verify_audit at scale.

    make bench BENCH_ARGS="--only foundation [--parts provision,append,verify] [--runs 5]
        [--writers 8] [--entries 1000] [--verify-sizes 100000,1000000] [--keep]"

provision  the real `tenant_provision` (schema clone of `tenant_template`) against the same
           service with TENANT_CREATION_FAKES_MIGRATIONS off (every migration run).
append     `audit_record` in its own transaction per entry, from N writer processes with
           their own connections: all in one tenant, then one writer per tenant across N
           tenants; then the chains are verified. A diagnosis follows: one writer alone
           (how long the chain head stays locked, split into the work before COMMIT and the
           COMMIT itself) and N writers with `synchronous_commit = off` (the share of the
           WAL flush), with the CPU each append costs in Python and in its PostgreSQL
           backend.
verify     entries built in Python with audit/canonical.py (correctly chained from the
           tenant's chain head) and COPY'd in; then `manage.py verify_audit --schema S` is
           timed as a subprocess, with its peak RSS, at each size.
"""
import argparse
import datetime as dt
import multiprocessing
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.db import connection, connections, transaction
from django.test import override_settings
from django_tenants.utils import schema_context

from audit.canonical import canonical_json, sha256_hex
from audit.models import AuditChainHead, AuditEntry
from audit.selectors import audit_chain_verify
from audit.services import audit_record
from bench.support import bench_tenant, median, percentile, process_cpu_seconds, record, tenant_drop

ROOT = Path(__file__).resolve().parent.parent
PROVISION_TARGET_S = 2.0
APPEND_TARGET_PER_S = 2000
VERIFY_TARGET_S = 20.0


def _parse(argv):
    parser = argparse.ArgumentParser(prog="bench_foundation")
    parser.add_argument("--parts", default="provision,append,verify")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--migrate-runs", type=int, default=None, help="runs of the migrate-based provisioning (default: --runs)")
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--entries", type=int, default=500, help="entries per writer per run")
    parser.add_argument("--verify-sizes", default="100000,1000000")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark tenants")
    options, _ = parser.parse_known_args(argv)
    return options


# ---------------------------------------------------------------------------- provisioning

def bench_provision(options) -> None:
    def timed_provisions(runs: int) -> tuple[list[float], list]:
        seconds, tenants = [], []
        for _ in range(runs):
            started = time.perf_counter()
            tenants.append(bench_tenant("bench_prov"))
            seconds.append(time.perf_counter() - started)
        return seconds, tenants

    clone_s, clone_tenants = timed_provisions(options.runs)
    with override_settings(TENANT_CREATION_FAKES_MIGRATIONS=False):
        migrate_s, migrate_tenants = timed_provisions(options.migrate_runs or options.runs)
    if not options.keep:
        for tenant in clone_tenants + migrate_tenants:
            tenant_drop(tenant)

    clone_median, migrate_median = median(clone_s), median(migrate_s)
    record("provision_clone_seconds", [round(s, 3) for s in clone_s])
    record("provision_clone_median_s", round(clone_median, 3))
    record("provision_migrate_seconds", [round(s, 3) for s in migrate_s])
    record("provision_migrate_median_s", round(migrate_median, 3))
    record("provision_migrate_over_clone", round(migrate_median / clone_median, 1))
    ok = clone_median < PROVISION_TARGET_S
    record("provision_target_met", ok)
    print(f"provision by schema clone:  median {clone_median:.2f}s  (runs {', '.join(f'{s:.2f}' for s in clone_s)})"
          f"  target < {PROVISION_TARGET_S:.0f}s: {'met' if ok else 'MISSED'}")
    print(f"provision by migrations:    median {migrate_median:.2f}s  (runs {', '.join(f'{s:.2f}' for s in migrate_s)})"
          f"  = {migrate_median / clone_median:.1f}x the clone")


# ---------------------------------------------------------------------------- audit appends

def _writer(schema, count, barrier, results, synchronous_commit, append):
    """One writer process: its own connection, one transaction per entry."""
    try:
        connections.close_all()
        with schema_context(schema):
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                backend = cursor.fetchone()[0]
                if synchronous_commit != "on":
                    cursor.execute("SELECT set_config('synchronous_commit', %s, false)", [synchronous_commit])
            with transaction.atomic():  # warm up: connection, search_path, plans
                append(actor="bench-writer", verb="bench.warmup", target_type="bench", target_id=os.getpid())
            barrier.wait()
            work, commit = [], []
            cpu_client, cpu_server = time.process_time(), process_cpu_seconds(backend)
            started = time.perf_counter()
            for i in range(count):
                t0 = time.perf_counter()
                atomic = transaction.atomic()
                atomic.__enter__()
                append(
                    actor="bench-writer", verb="lead.routed", target_type="leads.lead", target_id=i,
                    payload={"rule": "A-grade top performer", "owner": "rep017", "score": 87, "writer": os.getpid()},
                )
                t1 = time.perf_counter()
                atomic.__exit__(None, None, None)
                t2 = time.perf_counter()
                work.append(t1 - t0)
                commit.append(t2 - t1)
            finished = time.perf_counter()
            cpu_client = time.process_time() - cpu_client
            cpu_server = process_cpu_seconds(backend) - cpu_server
        connections.close_all()
        results.put({"started": started, "finished": finished, "count": count, "work": work, "commit": commit,
                     "cpu_client": cpu_client, "cpu_server": cpu_server})
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which fails the run
        results.put({"error": repr(exc)})
        raise


def _append_run(schemas: list[str], count: int, synchronous_commit: str = "on", append=audit_record) -> dict:
    ctx = multiprocessing.get_context("fork")
    barrier, results = ctx.Barrier(len(schemas)), ctx.Queue()
    connections.close_all()
    processes = [
        ctx.Process(target=_writer, args=(s, count, barrier, results, synchronous_commit, append)) for s in schemas
    ]
    for process in processes:
        process.start()
    reports = [results.get(timeout=600) for _ in processes]
    for process in processes:
        process.join()
    errors = [r["error"] for r in reports if "error" in r]
    if errors:
        raise RuntimeError(f"writer failed: {errors[0]}")
    total = sum(r["count"] for r in reports)
    elapsed = max(r["finished"] for r in reports) - min(r["started"] for r in reports)
    latencies = [w + c for r in reports for w, c in zip(r["work"], r["commit"])]
    return {
        "entries": total,
        "writers": len(reports),
        "seconds": elapsed,
        "per_s": total / elapsed,
        "latency_p50_ms": percentile(latencies, 0.50) * 1000,
        "latency_p95_ms": percentile(latencies, 0.95) * 1000,
        "latency_p99_ms": percentile(latencies, 0.99) * 1000,
        "work_median_ms": median([w for r in reports for w in r["work"]]) * 1000,
        "commit_median_ms": median([c for r in reports for c in r["commit"]]) * 1000,
        "cpu_client_ms_per_entry": sum(r["cpu_client"] for r in reports) / total * 1000,
        "cpu_server_ms_per_entry": sum(r["cpu_server"] for r in reports) / total * 1000,
    }


def _summarise(label: str, key: str, runs: list[dict]) -> float:
    rates = [r["per_s"] for r in runs]
    rate = median(rates)
    record(f"{key}_per_s_runs", [round(x) for x in rates])
    record(f"{key}_per_s_median", round(rate))
    record(f"{key}_latency_ms_median_p50_p95_p99", [
        round(median([r[f"latency_{p}_ms"] for r in runs]), 2) for p in ("p50", "p95", "p99")
    ])
    record(f"{key}_work_commit_ms_median", [
        round(median([r["work_median_ms"] for r in runs]), 3), round(median([r["commit_median_ms"] for r in runs]), 3)
    ])
    cpu = [round(median([r[f"cpu_{side}_ms_per_entry"] for r in runs]), 3) for side in ("client", "server")]
    record(f"{key}_cpu_ms_per_entry_client_server", cpu)
    p50, p95, p99 = (median([r[f"latency_{p}_ms"] for r in runs]) for p in ("p50", "p95", "p99"))
    print(f"{label:<52} median {rate:6.0f} entries/s (runs {', '.join(f'{x:.0f}' for x in rates)});"
          f" txn p50/p95/p99 {p50:.2f}/{p95:.2f}/{p99:.2f} ms; CPU/entry Python {cpu[0]:.2f} ms + PostgreSQL {cpu[1]:.2f} ms")
    return rate


def _chain_check(schema: str, expected: int) -> bool:
    with schema_context(schema):
        verdict = audit_chain_verify()
        head = AuditChainHead.objects.get(pk=1)
    good = verdict.intact and verdict.count == expected and head.seq == expected
    print(f"  chain {schema}: {verdict} (expected {expected}, head at #{head.seq}) -> {'ok' if good else 'BROKEN'}")
    return good


def _entry_count(schema: str) -> int:
    with schema_context(schema):
        return AuditEntry.objects.count()


def bench_append(options) -> bool:
    n, count = options.writers, options.entries
    one = bench_tenant("bench_app1")
    many = [bench_tenant("bench_appn") for _ in range(n)]
    try:
        before = {t.schema_name: _entry_count(t.schema_name) for t in [one, *many]}
        one_runs = [_append_run([one.schema_name] * n, count) for _ in range(options.runs)]
        many_runs = [_append_run([t.schema_name for t in many], count) for _ in range(options.runs)]
        one_rate = _summarise(f"append, {n} writers, one tenant", "append_one_tenant", one_runs)
        many_rate = _summarise(f"append, {n} writers, {n} tenants (1 each)", "append_across_tenants", many_runs)
        record("append_entries_per_run", n * count)

        # Diagnosis: the chain head row stays locked from SELECT … FOR UPDATE until COMMIT
        # returns, so in one tenant appends run one after another whatever the writer count.
        alone_runs = [_append_run([one.schema_name], count) for _ in range(options.runs)]
        alone_rate = _summarise("diagnosis: 1 writer alone, one tenant", "append_single_writer", alone_runs)
        async_runs = [_append_run([one.schema_name] * n, count, synchronous_commit="off") for _ in range(options.runs)]
        async_rate = _summarise(f"diagnosis: {n} writers, one tenant, sync commit off", "append_one_tenant_async", async_runs)
        work = median([r["work_median_ms"] for r in alone_runs])
        commit = median([r["commit_median_ms"] for r in alone_runs])
        print(f"  one append alone: {work:.3f} ms locking the head + INSERT + head UPDATE (Python and one statement),"
              f" {commit:.3f} ms COMMIT (WAL flush + round trip); head held ~{work + commit:.3f} ms"
              f" -> ceiling ~{1000 / (work + commit):.0f}/s in one tenant")
        print(f"  {n} writers in one tenant reach {one_rate / alone_rate:.2f}x one writer;"
              f" without waiting for the WAL flush: {async_rate:.0f}/s ({async_rate / one_rate:.2f}x)")
        record("append_one_tenant_over_single_writer", round(one_rate / alone_rate, 2))
        load = os.getloadavg()
        record("load_average_1_5_15", [round(x, 2) for x in load])
        print(f"  load average during the append runs: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores")

        # Every writer also appends one warm-up entry per run before the clock starts.
        appended_one = sum(r["entries"] + r["writers"] for r in one_runs + alone_runs + async_runs)
        good = _chain_check(one.schema_name, before[one.schema_name] + appended_one)
        for tenant in many:
            good = _chain_check(tenant.schema_name, before[tenant.schema_name] + options.runs * (count + 1)) and good
        record("append_chains_intact", good)
        print(f"  targets >= {APPEND_TARGET_PER_S}/s: one tenant {'met' if one_rate >= APPEND_TARGET_PER_S else 'MISSED'},"
              f" across tenants {'met' if many_rate >= APPEND_TARGET_PER_S else 'MISSED'}")
        return good
    finally:
        if not options.keep:
            for tenant in [one, *many]:
                tenant_drop(tenant)


# ---------------------------------------------------------------------------- verify at scale

VERBS = ("lead.created", "lead.routed", "lead.accepted", "lead.first_touch", "followup.logged",
         "opportunity.stage_changed", "evidence.added", "evidence.downgraded", "admin.changed")
COPY_COLUMNS = ("seq", "prev_hash", "entry_hash", "canonical", "created_at", "actor_id", "actor_label",
                "verb", "target_type", "target_id", "payload", "reason")


def _entries(start_seq: int, prev_hash: str, count: int, start_at: dt.datetime, rng: random.Random, custom=None):
    """Chained entries exactly as audit_record would write them, ready for COPY.

    `custom(seq, rng)` may return a dict replacing some of an entry's fields (verb, target_type,
    target_id, payload) before it is sealed.
    """
    for offset in range(count):
        seq = start_seq + offset
        actor = rng.randint(1, 200)
        verb = VERBS[seq % len(VERBS)]
        created_at = start_at + dt.timedelta(milliseconds=250 * offset, microseconds=rng.randint(0, 999))
        payload = {
            "channel": rng.choice(("web_form", "api", "csv", "manual")),
            "owner": f"rep{actor:03d}",
            "rule": rng.choice(("A-grade top performer", "B-grade round robin", "C-grade public pool")),
            "score": rng.randint(0, 100),
            "candidates": [f"rep{rng.randint(1, 200):03d}" for _ in range(3)],
            "amount": f"{rng.randint(1, 500000)}.00",
        }
        reason = "manager review" if seq % 17 == 0 else ""
        content = {
            "seq": seq, "prev_hash": prev_hash, "created_at": created_at, "actor_id": actor,
            "actor": f"rep{actor:03d}", "verb": verb, "target_type": "leads.lead", "target_id": str(seq // 3),
            "payload": payload, "reason": reason,
        }
        if custom is not None:
            content.update(custom(seq, rng) or {})
        canonical = canonical_json(content)
        entry_hash = sha256_hex(canonical)
        yield (seq, prev_hash, entry_hash, canonical, created_at, content["actor_id"], content["actor"], content["verb"],
               content["target_type"], content["target_id"], canonical_json(content["payload"]), reason)
        prev_hash = entry_hash


def grow_chain(schema: str, count: int, seed: int = 1, custom=None) -> float:
    """Append `count` correct entries to `schema`'s chain by COPY, honouring its chain head."""
    started = time.perf_counter()
    rng = random.Random(seed)
    with schema_context(schema), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT seq, entry_hash FROM audit_auditchainhead WHERE id = 1 FOR UPDATE")
        head_seq, head_hash = cursor.fetchone()
        start_at = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(seconds=head_seq)
        seq, last_hash = head_seq, head_hash
        columns = ", ".join(COPY_COLUMNS)
        with cursor.cursor.copy(f'COPY "{schema}".audit_auditentry ({columns}) FROM STDIN') as copy:
            for row in _entries(head_seq + 1, head_hash, count, start_at, rng, custom):
                copy.write_row(row)
                seq, last_hash = row[0], row[2]
        # The head may only move by one append (a trigger checks it); this bulk load is the
        # table owner's, so it moves the head past the COPY'd entries with triggers off.
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("UPDATE audit_auditchainhead SET seq = %s, entry_hash = %s WHERE id = 1", [seq, last_hash])
        cursor.execute("SET LOCAL session_replication_role = origin")
    with connection.cursor() as cursor:
        cursor.execute(f'VACUUM ANALYZE "{schema}".audit_auditentry')
    return time.perf_counter() - started


def timed_verify(schema: str) -> dict:
    """Run `manage.py verify_audit` as a subprocess; wall time, peak RSS and its output."""
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "manage.py", "verify_audit", "--schema", schema],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
        )
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode().strip()
    return {"seconds": elapsed, "peak_rss_mib": usage.ru_maxrss / 1024, "exit_code": process.returncode, "output": text}


def bench_verify(options) -> bool:
    sizes = sorted(int(s) for s in options.verify_sizes.split(","))
    tenant = bench_tenant("bench_verify")
    schema, good, figures = tenant.schema_name, True, {}
    try:
        for size in sizes:
            have = _entry_count(schema)
            built = grow_chain(schema, size - have, seed=size)
            print(f"verify_audit: built entries {have + 1}..{size} by COPY in {built:.1f}s")
            runs = [timed_verify(schema) for _ in range(options.runs if size <= sizes[0] else max(3, options.runs // 2 + 1))]
            ok_runs = all(r["exit_code"] == 0 and f"{size} entries" in r["output"] for r in runs)
            seconds = median([r["seconds"] for r in runs])
            rss = max(r["peak_rss_mib"] for r in runs)
            figures[size] = (seconds, rss)
            record(f"verify_{size}_seconds", [round(r["seconds"], 2) for r in runs])
            record(f"verify_{size}_median_s", round(seconds, 2))
            record(f"verify_{size}_peak_rss_mib", round(rss, 1))
            listed = ", ".join(f"{r['seconds']:.2f}" for r in runs)
            print(f"verify_audit over {size:>9,} entries: median {seconds:6.2f}s"
                  f" (runs {listed}), peak RSS {rss:.0f} MiB;"
                  f" {runs[-1]['output'].splitlines()[-1] if runs[-1]['output'] else ''}")
            good = good and ok_runs
        largest = sizes[-1]
        seconds, rss = figures[largest]
        if len(sizes) > 1:
            ratio = rss / figures[sizes[0]][1]
            record("verify_rss_ratio_largest_over_smallest", round(ratio, 2))
            print(f"  peak RSS {sizes[-1]:,} vs {sizes[0]:,} entries: {ratio:.2f}x (flat memory keeps this near 1)")
        print(f"  target < {VERIFY_TARGET_S:.0f}s over {largest:,}: {'met' if seconds < VERIFY_TARGET_S else 'MISSED'}")
        return good
    finally:
        if not options.keep:
            tenant_drop(tenant)


def main(argv) -> int:
    options = _parse(argv)
    parts = {p.strip() for p in options.parts.split(",") if p.strip()}
    record("options", vars(options))
    good = True
    if "provision" in parts:
        bench_provision(options)
    if "append" in parts:
        good = bench_append(options) and good
    if "verify" in parts:
        good = bench_verify(options) and good
    # A missed performance target is reported above, not an error; a broken chain or a
    # verify_audit that does not confirm the entries it was given is.
    return 0 if good else 1
