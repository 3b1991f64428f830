"""Action health benchmarks: the manager's health page at scale, the weekly report over many tenants.

    make bench BENCH_ARGS="--only health [--parts page,weekly] [--reps 200] [--opportunities 50000]
        [--days 180] [--requests 200] [--tenants 50] [--keep] [--page-schema S]"

page    one tenant filled by seed_demo's seeders (org with --reps reps, follow-ups, the contacts
        each follow-up names; leads through the real intake): --opportunities over --days days
        gives ~1,000,000 follow-ups at the defaults. Every team is moved into one region, so
        that region holds all --reps reps; its director opens /health/. Cold: the figures
        computed (the remembered ones forgotten before each request); warm: --requests requests
        with the figures remembered (they are kept five minutes). Queries per request.
weekly  --tenants tenants provisioned the real way and seeded small (12 reps, 400 opportunities,
        leads); `run_weekly_reports --now <Monday 08:00 tenant time>` over all of them, then the
        same again (must send none). --reuse takes tenants an earlier run left seeded
        (--keep, or interrupted) instead of building them again.
"""
import argparse
import datetime as dt
import io
import random
import time
import zoneinfo

from django.core.management import call_command
from django.db import connection, reset_queries
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from bench.support import bench_tenant, median, percentile, record, tenant_drop

PAGE_P95_MS = 200.0
WEEKLY_TARGET_S = 10.0


def _parse(argv):
    parser = argparse.ArgumentParser(prog="bench_health")
    parser.add_argument("--parts", default="page,weekly")
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--opportunities", type=int, default=50_000)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--cold", type=int, default=5)
    parser.add_argument("--tenants", type=int, default=50)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--reuse", action="store_true", help="reuse weekly tenants seeded by an earlier run")
    parser.add_argument("--page-schema", help="reuse a page tenant kept by an earlier --keep run")
    options, _ = parser.parse_known_args(argv)
    return options


def _seed(tenant, *, reps, opportunities, days, seed=7, leads=True) -> str:
    from audit.health.demo import seed_health_touches
    from followups.demo import seed_followups
    from leads.demo import seed_leads
    from salesflow.org.demo import seed_org

    options = {"schema": tenant.schema_name, "reps": reps, "opportunities": opportunities, "days": days, "seed": seed}
    done = []
    with schema_context(tenant.schema_name):
        done.append(seed_org(rng=random.Random(f"{seed}:org"), options=options))
        if leads:
            done.append(seed_leads(rng=random.Random(f"{seed}:leads"), options=options))
        done.append(seed_followups(rng=random.Random(f"{seed}:followups"), options=options))
        done.append(seed_health_touches(rng=random.Random(f"{seed}:health"), options=options))
    return "; ".join(done)


def _one_region(tenant):
    """Every team into the first region: a region of all the tenant's reps. Returns its director."""
    from salesflow.org.models import Member, Region, Team

    with schema_context(tenant.schema_name):
        region = Region.objects.filter(parent__isnull=True, director__isnull=False).order_by("name").first()
        Team.objects.update(region=region)
        Member.objects.exclude(region=None).update(region=region)
        reps = Member.objects.filter(role="rep", team__region=region).count()
        return region, region.director, reps


def _timed(client, url, *, requests: int, before=None) -> dict:
    samples, queries = [], 0
    for _ in range(requests):
        if before:
            before()
        reset_queries()
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url)
            samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        queries = len(captured)
    return {"median_ms": round(median(samples), 1), "p95_ms": round(percentile(samples, 0.95), 1),
            "max_ms": round(max(samples), 1), "queries": queries}


def bench_page(options, tenant) -> bool:
    from audit.health.selectors import health_generation_bump
    from followups.models import Contact, FollowUp, Opportunity
    from leads.models import Lead

    region, director, reps = _one_region(tenant)
    with schema_context(tenant.schema_name), connection.cursor() as cursor:
        for table in ("followups_followup", "followups_followup_contacts", "followups_opportunity",
                      "followups_contact", "leads_lead"):
            cursor.execute(f"VACUUM ANALYZE {table}")
        sizes = {"followups": FollowUp.objects.count(), "followup_contacts": FollowUp.contacts.through.objects.count(),
                 "opportunities": Opportunity.objects.count(), "contacts": Contact.objects.count(),
                 "leads": Lead.objects.exclude(assigned_at=None).count(), "reps_in_region": reps}
    print("page: " + ", ".join(f"{k}={v}" for k, v in sizes.items()))
    for key, value in sizes.items():
        record(f"page_{key}", value)
    host = tenant.get_primary_domain().domain
    client = Client(HTTP_HOST=host)
    with schema_context(tenant.schema_name):
        client.force_login(director)

    def forget():
        with schema_context(tenant.schema_name):
            health_generation_bump()

    ok = True
    for label, url in (("region", "/health/"), ("region_filtered", f"/health/?region={region.pk}&period=30d")):
        cold = _timed(client, url, requests=options.cold, before=forget)
        client.get(url)
        warm = _timed(client, url, requests=options.requests)
        for name, figures in (("cold", cold), ("warm", warm)):
            print(f"page {label:16s} {name:4s} median {figures['median_ms']:7.1f} ms  p95 {figures['p95_ms']:7.1f} ms  "
                  f"max {figures['max_ms']:7.1f} ms  queries {figures['queries']}")
            for key, value in figures.items():
                record(f"page_{label}_{name}_{key}", value)
        ok &= warm["p95_ms"] < PAGE_P95_MS
    return ok


def _monday_eight(tz: zoneinfo.ZoneInfo) -> dt.datetime:
    local = dt.datetime.now(tz)
    monday = local.date() - dt.timedelta(days=local.weekday())
    return dt.datetime.combine(monday, dt.time(8), tzinfo=tz)


def _run_all(tenants, now) -> tuple[float, int, list[str]]:
    out = io.StringIO()
    started = time.perf_counter()
    for tenant in tenants:
        call_command("run_weekly_reports", schema=tenant.schema_name, now=now.isoformat(), stdout=out)
    lines = out.getvalue().strip().splitlines()
    return time.perf_counter() - started, sum(int(line.rsplit("health=", 1)[1]) for line in lines), lines


def _seeded_weekly_tenants() -> list:
    """Weekly tenants an earlier (interrupted or --keep) run finished seeding: reused, not rebuilt."""
    from salesflow.tenancy.models import Tenant

    found = []
    for tenant in Tenant.objects.filter(schema_name__startswith="hweek_").order_by("schema_name"):
        with schema_context(tenant.schema_name), connection.cursor() as cursor:
            cursor.execute("SELECT EXISTS (SELECT 1 FROM audit_auditentry WHERE verb = 'demo.health_touches_seeded')")
            if cursor.fetchone()[0]:
                found.append(tenant)
    return found


def bench_weekly(options) -> bool:
    tenants = _seeded_weekly_tenants()[: options.tenants] if options.reuse else []
    reused = len(tenants)
    started = time.perf_counter()
    try:
        for index in range(reused, options.tenants):
            tenant = bench_tenant("hweek")
            tenants.append(tenant)
            _seed(tenant, reps=12, opportunities=400, days=60, seed=index)
        build_s = time.perf_counter() - started
        print(f"weekly: {reused} seeded tenants reused, {len(tenants) - reused} built")
        # Reports an earlier run already claimed for this week are not "due" again: start clean.
        for tenant in tenants:
            with schema_context(tenant.schema_name):
                from audit.models import WeeklyHealthReport

                WeeklyHealthReport.objects.all().delete()
        now = _monday_eight(zoneinfo.ZoneInfo("Asia/Shanghai"))
        first_s, first, lines = _run_all(tenants, now)
        second_s, second, _ = _run_all(tenants, now)
        print(f"weekly: {len(tenants)} tenants built in {build_s:.0f}s; clock {now.isoformat()}")
        print(f"weekly: first run  {first_s:6.2f}s health={first} (sample: {lines[0]})")
        print(f"weekly: second run {second_s:6.2f}s health={second}")
        record("weekly_tenants", len(tenants))
        record("weekly_first_s", round(first_s, 2))
        record("weekly_first_sent", first)
        record("weekly_second_s", round(second_s, 2))
        record("weekly_second_sent", second)
        return first_s < WEEKLY_TARGET_S and second == 0 and first > 0
    finally:
        if options.keep:
            print(f"weekly: kept {len(tenants)} tenants (reuse with --reuse)")
        else:
            for tenant in tenants:
                tenant_drop(tenant)


def main(argv) -> int:
    from django.conf import settings

    options = _parse(argv)
    parts = set(options.parts.split(","))
    settings.DEBUG = False
    ok = True
    if "weekly" in parts:
        ok &= bench_weekly(options)
    if "page" in parts:
        from salesflow.tenancy.models import Tenant

        tenant = Tenant.objects.get(schema_name=options.page_schema) if options.page_schema else bench_tenant("hpage")
        try:
            if not options.page_schema:
                started = time.perf_counter()
                summary = _seed(tenant, reps=options.reps, opportunities=options.opportunities, days=options.days)
                print(f"page: seeded in {time.perf_counter() - started:.0f}s\n{summary}")
                record("page_build_s", round(time.perf_counter() - started, 1))
            ok &= bench_page(options, tenant)
        finally:
            if options.keep or options.page_schema:
                print(f"page: kept tenant {tenant.schema_name} (reuse with --page-schema {tenant.schema_name})")
            else:
                tenant_drop(tenant)
    return 0 if ok else 1
