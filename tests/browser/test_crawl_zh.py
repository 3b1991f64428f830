"""Every page each role can reach, read in zh-hans: no server error, no English sentence.

A tenant of its own is provisioned and seeded (small) for the crawl, so the pages carry
real data; each role then follows the links of its pages breadth-first (same host, one
visit per page shape, capped) in Chromium. Data and brand names are not English sentences
(see english.py); everything else a Chinese reader sees must be Chinese.
"""
import re
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django_tenants.utils import schema_context

from conftest import ADMIN_PASSWORD, browser_context, chromium_launch, tenant_url

from .english import english_phrases

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("crawl")]

SCHEMA = "crawlzh"
DEMO_PASSWORD = "salesflow-demo"
OPERATOR = ("crawl-operator", "crawl-operator-pass-1")
MAX_PAGES_PER_START = 45
MAX_PER_SHAPE = 2
SKIP = re.compile(
    r"/logout/|/i18n/|/setlang|\.csv|\.zip|\.pdf|\.jsonl|/export|/errors\.|/download|/media/|/static/|/api/v1/"
    r"|/admin/r/|/delete/|/history/|/password_reset|/jsi18n/|/autocomplete/|/form/$|_popup=|/admin/audit/verify"
)


@pytest.fixture(scope="module")
def crawl_site(django_db_setup, django_db_blocker, live_server_url):
    from salesflow.tenancy.services import tenant_provision

    with django_db_blocker.unblock():
        result = tenant_provision(schema=SCHEMA, domain=f"{SCHEMA}.localhost", name="巡检医疗",
                                  admin_email=f"admin@{SCHEMA}.example.com", admin_password=ADMIN_PASSWORD)
        call_command("seed_demo", schema=SCHEMA, reps=6, opportunities=40, days=20, seed=3, stdout=open("/dev/null", "w"))
        call_command("run_sla_scan", schema=SCHEMA, stdout=open("/dev/null", "w"))
        operator = get_user_model().objects.create_superuser(OPERATOR[0], "op@example.com", OPERATOR[1])
        with schema_context(SCHEMA):
            data = _data_strings()
        try:
            yield {"url": live_server_url, "data": data}
        finally:
            # Only its own row: the public schema has no member table for a cascade to look at.
            get_user_model().objects.filter(pk=operator.pk)._raw_delete("default")
            connection.set_schema_to_public()
            result.tenant.delete(force_drop=True)


def _data_strings() -> list[str]:
    """What the tenant's people typed or the seed wrote: names, rule and channel names."""
    from leads.models import RoutingRule
    from salesflow.notifications.models import Channel

    users = get_user_model().objects.values_list("username", "email", "first_name", "last_name")
    values = [v for row in users for v in row]
    for name, label in RoutingRule.objects.values_list("name", "pool_label"):
        values += [name, label]
    values += list(Channel.objects.values_list("name", flat=True))
    from salesflow.org.models import Member

    values += list(Member.objects.values_list("full_name", flat=True))
    # Kept in English on purpose: the English label columns of bilingual data, and Django's
    # permission names (written once by migrate, a known Django limitation).
    from django.contrib.auth.models import Permission

    from followups.models import ActionTemplate, Stage, StageReminder
    from salesflow.org.models import VocabularyEntry

    values += list(Stage.objects.values_list("name_en", flat=True))
    values += list(ActionTemplate.objects.values_list("title_en", flat=True))
    values += list(StageReminder.objects.values_list("title_en", flat=True))
    values += [v for row in VocabularyEntry.objects.values_list("label_en", "synonyms") for v in _flat(row)]
    values += list(Permission.objects.values_list("name", flat=True))
    return [v for v in values if v]


def _flat(row):
    for value in row:
        yield from (value if isinstance(value, list | tuple) else [value])


def _shape(url: str) -> str:
    parts = urlsplit(url)
    path = re.sub(r"/\d+(?=/|$)", "/<id>", parts.path)
    params = ",".join(sorted({k for k, _ in parse_qsl(parts.query) if k not in ("page",)}))
    return f"{parts.netloc}{path}?{params}"


def _crawl(page, start: str, host: str) -> list[dict]:
    """Visit pages breadth-first from `start`; each visited page's status and English phrases."""
    queue, seen_shapes, seen, visited = deque([start]), {}, {start}, []
    while queue and len(visited) < MAX_PAGES_PER_START:
        url = queue.popleft()
        shape = _shape(url)
        if seen_shapes.get(shape, 0) >= MAX_PER_SHAPE:
            continue
        seen_shapes[shape] = seen_shapes.get(shape, 0) + 1
        response = page.goto(url, wait_until="domcontentloaded")
        status = response.status if response else 0
        text = page.evaluate("document.body ? document.body.innerText : ''")
        visited.append({"url": url, "status": status, "text": text})
        if status >= 400 or urlsplit(page.url).netloc != host:
            continue
        for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)"):
            href = href.split("#")[0]
            if urlsplit(href).netloc == host and href not in seen and not SKIP.search(href):
                seen.add(href)
                queue.append(href)
    return visited


def _sign_in(page, url: str, username: str, password: str):
    page.goto(url)
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("main button[type=submit], #login-form [type=submit]")
    page.wait_for_load_state("domcontentloaded")


def _roles(base: str) -> list[tuple[str, str, str, str]]:
    tenant_login = tenant_url(base, SCHEMA, "/accounts/login/")
    public_login = f"{base}/accounts/login/"
    return [
        ("rep", tenant_login, "rep001", DEMO_PASSWORD),
        ("manager", tenant_login, "manager1", DEMO_PASSWORD),
        ("director", tenant_login, "director", DEMO_PASSWORD),
        ("tenant admin", tenant_login, f"admin@{SCHEMA}.example.com", ADMIN_PASSWORD),
        ("operator", public_login, *OPERATOR),
    ]


def _visit_as(base: str, role: tuple[str, str, str, str]) -> tuple[str, list[dict]]:
    from playwright.sync_api import sync_playwright

    name, login, username, password = role
    with sync_playwright() as playwright:
        browser = chromium_launch(playwright)
        try:
            context = browser_context(browser, viewport={"width": 1280, "height": 900}, locale="zh-CN")
            host = urlsplit(login).netloc
            context.add_cookies([{"name": "django_language", "value": "zh-hans", "url": f"http://{host}/"}])
            page = context.new_page()
            page.route(re.compile(r".*\.(png|jpg|svg|woff2?)$"), lambda route: route.abort())
            response = page.goto(login)  # signed out: the sign-in page itself must answer (it was a 500 on the public host)
            visited = [{"url": login, "status": response.status if response else 0,
                        "text": page.evaluate("document.body.innerText")}]
            _sign_in(page, login, username, password)
            starts = [f"http://{host}/"] + ([f"http://{host}/admin/"] if name == "tenant admin" else [])
            for start in starts:
                visited += _crawl(page, start, host)
            return name, visited
        finally:
            browser.close()


def test_every_page_of_every_role_answers_and_reads_in_chinese(crawl_site):
    started = time.monotonic()
    roles = _roles(crawl_site["url"])
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda role: _visit_as(crawl_site["url"], role), roles))
    errors, english, counts = [], [], {}
    for name, visited in results:
        counts[name] = len(visited)
        for seen in visited:
            if seen["status"] >= 500 or seen["status"] == 0:
                errors.append(f"{name} {seen['status']} {seen['url']}")
            text = seen["text"]
            for phrase in english_phrases(text, crawl_site["data"]):
                english.append(f"{name} {seen['url']}: {phrase}")
    print(f"crawled {counts} in {time.monotonic() - started:.1f}s")
    assert errors == []
    assert english == [], "\n".join(sorted(set(english)))
    assert min(counts.values()) >= 2 and sum(counts.values()) >= 60, counts  # sign-in page and home at least
