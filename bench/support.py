"""Small helpers shared by the benchmark modules.

`record(name, value)` adds a figure to the results file `bench/run.py` writes for the
module being run; `median`/`percentile` summarise samples; `bench_tenant` provisions a
throw-away tenant in the benchmark database and `tenant_drop` removes it again.
"""
import datetime as dt
import os
import platform
import statistics
import uuid

_FIGURES: dict[str, object] = {}


def record(name: str, value) -> None:
    """Keep a figure for the JSON results of the module currently running."""
    _FIGURES[name] = value


def take_figures() -> dict[str, object]:
    figures = dict(_FIGURES)
    _FIGURES.clear()
    return figures


def median(samples) -> float:
    return statistics.median(samples)


def percentile(samples, fraction: float) -> float:
    """Nearest-rank percentile (fraction in 0..1) of a non-empty sample list."""
    ordered = sorted(samples)
    rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.5)))
    return ordered[rank - 1]


def machine() -> dict[str, object]:
    total = 0
    try:
        with open("/proc/meminfo") as meminfo:
            total = int(meminfo.readline().split()[1]) * 1024
    except OSError:
        pass
    return {
        "host": platform.node(),
        "cpus": os.cpu_count(),
        "memory_gib": round(total / 2**30, 1),
        "python": platform.python_version(),
        # Other work on the same cores (shared machines): figures are comparable only within one run.
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def unique_schema(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


def bench_tenant(prefix: str = "bench"):
    """Provision a tenant the real way (schema clone) and return it."""
    from salesflow.tenancy.services import tenant_provision

    schema = unique_schema(prefix)
    result = tenant_provision(
        schema=schema, domain=f"{schema.replace('_', '-')}.bench.localhost", name=f"Bench {schema}",
        admin_email=f"admin@{schema.replace('_', '-')}.example.com", admin_password="bench-password-1",
    )
    return result.tenant


def tenant_drop(tenant) -> None:
    """Remove a benchmark tenant, its domains and its schema."""
    from django.db import connection

    connection.set_schema_to_public()
    tenant.domains.all().delete()
    tenant.delete(force_drop=True)


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process on this machine has used (from /proc); NaN when it cannot be read.
    For a PostgreSQL backend this is the database's work, comparable across runs however loaded the machine is."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def backend_cpu_seconds() -> float:
    """CPU seconds the PostgreSQL backend of Django's current connection has used (the server is on this machine)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    return process_cpu_seconds(pid)
