"""Records benchmarks: global search, the pipeline view and an opportunity edit, through the
real view stack (Django's test client: middleware, tenant resolution, session, templates;
DEBUG off), each beside a /healthz baseline taken in the same run.

    make bench BENCH_ARGS="--only records [--accounts 100000] [--contacts-per-account 3]
        [--opportunities 100000] [--leads 100000] [--requests 300] [--rounds 3]
        [--keep] [--schema S]"

One tenant: 200 reps in teams (seed_demo's organisation seeder), --accounts customers with
--contacts-per-account contacts each (Chinese names, mobile and landline numbers),
--opportunities open opportunities across the open stages, --leads leads. Rows are
bulk-inserted (as an import would) and the tables vacuumed and analysed.

search    GET /followups/search/?q=… as the header asks for it (htmx partial), a mix of
          realistic queries: a contact's last four phone digits, a contact's full name
          (two or three characters), one surname character, a 3–4 character fragment of a
          customer name, seven digits of a lead's phone; as the admin (whole tenant), a
          team manager and a rep. Target p95 < 50 ms.
pipeline  GET /followups/pipeline/ (the full page) and its board partial, as the admin and
          a team manager, unfiltered and filtered by product line. Target p95 < 150 ms.
edit      POST /followups/opportunities/<id>/edit/ changing the amount (lock, history rows,
          audit entry, redirect), as the owner. Target p95 < 50 ms.
Each part runs --rounds rounds of --requests requests; figures are per round and the median
of the rounds' p95, because other engineers' test suites share the 2 cores.
"""
import argparse
import random
import time
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import Max, Min
from django.db import connection, reset_queries
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from bench.support import bench_tenant, median, percentile, record, tenant_drop

SEARCH_P95_MS = 50.0
PIPELINE_P95_MS = 150.0
EDIT_P95_MS = 50.0
BATCH = 5000


def _parse(argv):
    parser = argparse.ArgumentParser(prog="bench_records")
    parser.add_argument("--parts", default="search,pipeline,edit")
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--contacts-per-account", type=int, default=3)
    parser.add_argument("--opportunities", type=int, default=100_000)
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--schema", help="reuse a tenant kept by an earlier --keep run")
    options, _ = parser.parse_known_args(argv)
    return options


def _phone(rng) -> str:
    if rng.random() < 0.8:
        return f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
    return f"0{rng.choice(['21', '10', '755', '571'])}-{rng.randrange(10**7, 10**8)}"


def _seed(options, seed: int = 11) -> str:
    from faker import Faker

    from followups.models import Account, Contact, ContactRole, Opportunity, Stage
    from leads.models import Channel, Lead, LeadStatus
    from salesflow.org.demo import seed_org

    rng = random.Random(seed)
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    org = seed_org(rng=random.Random(f"{seed}:org"), options={"reps": options.reps, "seed": seed})
    reps = list(get_user_model().objects.filter(member__role="rep").values_list("pk", flat=True))
    cities = [fake.city_name() for _ in range(300)]
    suffixes = ["人民医院", "中心医院", "中医院", "妇幼保健院", "机械有限公司", "科技有限公司", "商贸有限公司", "卫生院"]
    surnames = [fake.last_name() for _ in range(200)]
    given = [fake.first_name() for _ in range(400)]
    roles = ContactRole.values
    account_ids = []
    for start in range(0, options.accounts, BATCH):
        rows = [Account(name=f"{rng.choice(cities)}{rng.choice(surnames)}{rng.choice(suffixes)}{n}", industry="医疗器械",
                        region="华东区", tier="三甲医院", owner_id=rng.choice(reps))
                for n in range(start, min(start + BATCH, options.accounts))]
        account_ids += [a.pk for a in Account.objects.bulk_create(rows)]
        contacts = [Contact(account_id=a.pk, name=rng.choice(surnames) + rng.choice(given), role=rng.choice(roles),
                            phone=_phone(rng)) for a in rows for _ in range(options.contacts_per_account)]
        Contact.objects.bulk_create(contacts, batch_size=BATCH)
    stages = list(Stage.objects.filter(outcome="open").order_by("position"))
    lines = ["影像设备", "检验试剂", "手术耗材", "液压件", "CRM套件"]
    owners = dict(Account.objects.values_list("id", "owner_id"))
    for start in range(0, options.opportunities, BATCH):
        rows = []
        for _ in range(start, min(start + BATCH, options.opportunities)):
            account_id = rng.choice(account_ids)
            rows.append(Opportunity(account_id=account_id, owner_id=owners[account_id], name=f"{rng.choice(lines)}采购项目",
                                    stage=rng.choices(stages, weights=[30, 25, 20, 15, 10])[0], product_line=rng.choice(lines),
                                    amount=Decimal(rng.choice([8, 15, 30, 50, 80, 120, 260, 600])) * 10000))
        Opportunity.objects.bulk_create(rows)
    for start in range(0, options.leads, BATCH):
        rows = []
        for n in range(start, min(start + BATCH, options.leads)):
            pool = rng.random() < 0.3
            rows.append(Lead(company=f"{rng.choice(cities)}{rng.choice(suffixes)}", contact_name=rng.choice(surnames) + rng.choice(given),
                             phone=_phone(rng), phone_normalized=f"+86{n:011d}", channel=Channel.API,
                             status=LeadStatus.POOL if pool else LeadStatus.ACCEPTED, owner_id=None if pool else rng.choice(reps)))
        Lead.objects.bulk_create(rows)
    with connection.cursor() as cursor:
        for table in ("followups_account", "followups_contact", "followups_opportunity", "leads_lead"):
            cursor.execute(f"VACUUM ANALYZE {table}")
    return f"{org}; {options.accounts} accounts, {options.accounts * options.contacts_per_account} contacts, " \
           f"{options.opportunities} opportunities, {options.leads} leads"


def _client(tenant, user) -> Client:
    client = Client(HTTP_HOST=tenant.get_primary_domain().domain)
    with schema_context(tenant.schema_name):
        client.force_login(user)
    return client


def _time(client, requests: list[tuple], *, expect: int = 200) -> dict:
    """Run (method, url, data, headers) requests; milliseconds per request and queries of the last."""
    samples, queries = [], 0
    for method, url, data, headers in requests:
        reset_queries()
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = getattr(client, method)(url, data or {}, **headers)
            samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == expect, (url, response.status_code)
        queries = len(captured)
    return {"median_ms": round(median(samples), 1), "p95_ms": round(percentile(samples, 0.95), 1),
            "p99_ms": round(percentile(samples, 0.99), 1), "queries": queries}


def _rounds(label: str, options, make_requests, client, *, expect: int = 200, baseline_client=None) -> dict:
    """--rounds rounds, each with its own /healthz baseline; the median of the rounds' p95."""
    p95s, medians, baselines = [], [], []
    for number in range(options.rounds):
        health = _time(baseline_client or client, [("get", "/healthz", None, {})] * options.requests)
        figures = _time(client, make_requests(number), expect=expect)
        p95s.append(figures["p95_ms"]), medians.append(figures["median_ms"]), baselines.append(health["p95_ms"])
        print(f"{label:28s} round {number + 1}: median {figures['median_ms']:6.1f} ms  p95 {figures['p95_ms']:6.1f} ms  "
              f"p99 {figures['p99_ms']:6.1f} ms  queries {figures['queries']:2d}  | /healthz p95 {health['p95_ms']:.1f} ms")
    summary = {"p95_ms_rounds": p95s, "p95_ms": median(p95s), "median_ms": median(medians),
               "healthz_p95_ms": median(baselines), "queries": figures["queries"]}
    for key, value in summary.items():
        record(f"{label.replace(' ', '_')}_{key}", value)
    return summary


def _search_queries(rng, n: int) -> list[str]:
    from followups.models import Account, Contact
    from leads.models import Lead

    def sample(model, *fields):  # the same rows every run: ids drawn from the seeded generator
        low, high = model.objects.aggregate(low=Min("id"), high=Max("id")).values()
        ids = [rng.randint(low, high) for _ in range(n * 2)]
        found = dict((row[0], row[1:]) for row in model.objects.filter(pk__in=ids).values_list("id", *fields))
        return [found[i] for i in ids if i in found][:n]

    contacts = sample(Contact, "name", "phone")
    accounts = [row[0] for row in sample(Account, "name")]
    leads = [row[0] for row in sample(Lead, "phone")]
    queries = []
    for i in range(n):
        kind = i % 5
        if kind == 0:
            queries.append("".join(ch for ch in contacts[i][1] if ch.isdigit())[-4:])
        elif kind == 1:
            queries.append(contacts[i][0])
        elif kind == 2:
            queries.append(contacts[i][0][:1])
        elif kind == 3:
            name = accounts[i]
            start = rng.randrange(0, max(1, len(name) - 4))
            queries.append(name[start:start + rng.choice([3, 4])])
        else:
            queries.append("".join(ch for ch in leads[i] if ch.isdigit())[-7:])
    return queries


def bench_search(options, tenant, people) -> bool:
    rng = random.Random(5)
    with schema_context(tenant.schema_name):
        queries = _search_queries(rng, options.requests)
    print(f"search: sample queries {queries[:10]}")
    ok = True
    for role, user in people.items():
        client = _client(tenant, user)
        client.get("/followups/search/", {"q": "医院"}, HTTP_HX_REQUEST="true")  # warm
        summary = _rounds(f"search {role}", options, lambda number: [
            ("get", "/followups/search/", {"q": q}, {"HTTP_HX_REQUEST": "true"}) for q in queries], client)
        ok &= summary["p95_ms"] < SEARCH_P95_MS
    return ok


def bench_pipeline(options, tenant, people) -> bool:
    ok = True
    for role in ("admin", "manager"):
        client = _client(tenant, people[role])
        client.get("/followups/pipeline/")
        for label, url, params, headers in (
            ("page", "/followups/pipeline/", None, {}),
            ("board partial", "/followups/pipeline/", {"partial": "board"}, {"HTTP_HX_REQUEST": "true"}),
            ("filtered page", "/followups/pipeline/", {"product_line": "影像设备"}, {}),
        ):
            summary = _rounds(f"pipeline {role} {label}", options,
                              lambda number: [("get", url, params, headers)] * options.requests, client)
            ok &= summary["p95_ms"] < PIPELINE_P95_MS
    return ok


def bench_edit(options, tenant, people) -> bool:
    from followups.models import Opportunity

    rep = people["rep"]
    with schema_context(tenant.schema_name):
        deals = list(Opportunity.objects.filter(owner=rep, is_open=True).values("id", "name", "product_line")[:50])
    client = _client(tenant, rep)

    def requests(number):
        return [("post", f"/followups/opportunities/{deal['id']}/edit/",
                 {"name": deal["name"], "amount": str(100000 + number * 1000 + i), "expected_close": "2027-06-30",
                  "product_line": deal["product_line"]}, {})
                for i, deal in ((i, deals[i % len(deals)]) for i in range(options.requests))]

    summary = _rounds("edit amount", options, requests, client, expect=302)
    return summary["p95_ms"] < EDIT_P95_MS


def _people(tenant) -> dict:
    from salesflow.org.models import Role

    User = get_user_model()
    with schema_context(tenant.schema_name):
        admin = User.objects.get(member__role=Role.ADMIN)
        manager = User.objects.filter(managed_teams__isnull=False).order_by("username").first()
        rep = User.objects.filter(member__role=Role.REP, member__team__manager=manager).order_by("username").first()
    return {"admin": admin, "manager": manager, "rep": rep}


def main(argv) -> int:
    from django.conf import settings

    from salesflow.tenancy.models import Tenant

    options = _parse(argv)
    settings.DEBUG = False
    parts = set(options.parts.split(","))
    tenant = Tenant.objects.get(schema_name=options.schema) if options.schema else bench_tenant("records")
    try:
        if not options.schema:
            started = time.perf_counter()
            with schema_context(tenant.schema_name):
                print(f"records: seeded {_seed(options)} in {time.perf_counter() - started:.0f}s")
        with schema_context(tenant.schema_name):
            from followups.models import Account, Contact, Opportunity
            from leads.models import Lead

            sizes = {"accounts": Account.objects.count(), "contacts": Contact.objects.count(),
                     "open_opportunities": Opportunity.objects.filter(is_open=True).count(), "leads": Lead.objects.count()}
        print(f"records: tenant {tenant.schema_name} holds {sizes}")
        for key, value in sizes.items():
            record(key, value)
        people = _people(tenant)
        ok = True
        if "search" in parts:
            ok &= bench_search(options, tenant, people)
        if "pipeline" in parts:
            ok &= bench_pipeline(options, tenant, people)
        if "edit" in parts:
            ok &= bench_edit(options, tenant, people)
    finally:
        if options.keep or options.schema:
            print(f"records: kept tenant {tenant.schema_name} (reuse with --schema {tenant.schema_name})")
        else:
            tenant_drop(tenant)
    return 0 if ok else 1
