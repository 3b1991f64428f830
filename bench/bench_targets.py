"""Targets benchmark: the Friday 17:00 deviation heatmap across tenants.

    make bench BENCH_ARGS="--only targets [--tenants 50] [--opportunities 400] [--reps 24] [--keep] [--reuse]"

--keep leaves the tenants in the benchmark database; --reuse starts from the complete ones a
kept run left (building only the missing ones) and moves the clock one week on per earlier
run, so the first run at 17:00 has its week still to send.

--tenants tenants are provisioned the real way and filled by seed_demo's seeders (org,
follow-ups with --opportunities each, this month's and quarter's targets), each with an
e-mail channel enabled so every report also writes its outbox row. Then
`run_weekly_reports` over all of them at:
  - Friday 16:59 tenant time (not due: the cost of the quarter-hourly beat on other days),
  - Friday 17:00 (every manager's heatmap claimed, notified, audited),
  - Friday 17:00 again (must send 0: the steady state of the rest of the week).
"""
import argparse
import datetime as dt
import io
import random
import time

from django.core.management import call_command
from django_tenants.utils import schema_context

from bench.support import bench_tenant, record, tenant_drop


def _parse(argv):
    parser = argparse.ArgumentParser(prog="bench_targets")
    parser.add_argument("--tenants", type=int, default=50)
    parser.add_argument("--opportunities", type=int, default=400)
    parser.add_argument("--reps", type=int, default=24)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark tenants")
    parser.add_argument("--reuse", action="store_true", help="start from the tenants a --keep run left")
    options, _ = parser.parse_known_args(argv)
    return options


def _seed(tenant, *, reps: int, opportunities: int, seed: int) -> None:
    from followups.demo import seed_followups
    from forecasting.demo_targets import seed_targets
    from salesflow.notifications.models import Channel
    from salesflow.org.demo import seed_org

    options = {"schema": tenant.schema_name, "reps": reps, "opportunities": opportunities, "days": 60, "seed": seed}
    with schema_context(tenant.schema_name):
        seed_org(rng=random.Random(f"{seed}:org"), options=options)
        seed_followups(rng=random.Random(f"{seed}:followups"), options=options)
        seed_targets(rng=random.Random(f"{seed}:targets"), options=options)
        Channel.objects.create(name="mail", kind=Channel.Kind.EMAIL)


def _reusable() -> list:
    """Complete benchmark tenants left by a kept run (a half-built one, with no targets yet, is dropped)."""
    from forecasting.models import Target
    from salesflow.tenancy.models import Tenant

    found = []
    for tenant in Tenant.objects.filter(schema_name__startswith="tgt_").order_by("pk"):
        with schema_context(tenant.schema_name):
            complete = Target.objects.exists()
        if complete:
            found.append(tenant)
        else:
            tenant_drop(tenant)
    return found


def _weeks_already_sent(tenant) -> int:
    from forecasting.models import HeatmapReport

    with schema_context(tenant.schema_name):
        return HeatmapReport.objects.values("iso_week").distinct().count()


def _run_all(tenants, now: dt.datetime) -> tuple[float, int]:
    out = io.StringIO()
    started = time.perf_counter()
    for tenant in tenants:
        call_command("run_weekly_reports", schema=tenant.schema_name, now=now.isoformat(), stdout=out)
    elapsed = time.perf_counter() - started
    lines = out.getvalue().strip().splitlines()
    return elapsed, sum(int(line.split("heatmaps=")[1].split()[0]) for line in lines)


def _friday_1700(today: dt.date) -> dt.datetime:
    """The coming Friday 17:00 in Shanghai (the provisioned tenants' zone), as UTC."""
    friday = today + dt.timedelta(days=(4 - today.weekday()) % 7)
    return dt.datetime.combine(friday, dt.time(17), tzinfo=dt.timezone(dt.timedelta(hours=8))).astimezone(dt.UTC)


def main(argv) -> int:
    from django.conf import settings

    from forecasting.models import HeatmapReport
    from salesflow.notifications.models import Delivery, Notification

    options = _parse(argv)
    settings.DEBUG = False
    print(f"targets: provisioning {options.tenants} tenants, {options.reps} reps and {options.opportunities} opportunities each")
    started = time.perf_counter()
    tenants = _reusable()[: options.tenants] if options.reuse else []
    print(f"targets: reusing {len(tenants)} tenants")
    try:
        for index in range(len(tenants), options.tenants):
            tenant = bench_tenant("tgt")
            tenants.append(tenant)
            _seed(tenant, reps=options.reps, opportunities=options.opportunities, seed=index)
        build_s = time.perf_counter() - started
        print(f"targets: built in {build_s:.0f}s")
        friday = _friday_1700(dt.date.today()) + dt.timedelta(weeks=_weeks_already_sent(tenants[0]))
        early_s, early = _run_all(tenants, friday - dt.timedelta(minutes=1))
        first_s, first = _run_all(tenants, friday)
        second_s, second = _run_all(tenants, friday)
        with schema_context(tenants[0].schema_name):
            sample = (HeatmapReport.objects.count(), Notification.objects.filter(kind="report").count(),
                      Delivery.objects.count())
        print(f"targets: 16:59 (not due) {early_s:.2f}s, {early} sent")
        print(f"targets: 17:00 first run {first_s:.2f}s, {first} heatmaps sent ({first_s / options.tenants * 1000:.0f} ms per tenant)")
        print(f"targets: 17:00 second run {second_s:.2f}s, {second} sent")
        print(f"targets: tenant 1 holds {sample[0]} reports, {sample[1]} notifications, {sample[2]} outbox rows")
        for name, value in (("build_s", round(build_s, 1)), ("not_due_s", round(early_s, 3)), ("not_due_sent", early),
                            ("first_s", round(first_s, 3)), ("first_sent", first), ("second_s", round(second_s, 3)),
                            ("second_sent", second), ("tenants", options.tenants)):
            record(f"heatmap_{name}", value)
        return 0 if early == 0 and second == 0 and first > 0 else 1
    finally:
        if not options.keep:
            for tenant in tenants:
                tenant_drop(tenant)
