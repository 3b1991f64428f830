"""The "3-second" visit log on a 375-px phone: taps and time, with and without a position.

The live server is another process, so the tenant and its rows are written and dropped
from a worker thread whose connection really commits (the test thread sits inside the
test transaction); Chromium runs in a worker thread too, keeping Playwright's event loop
off the test thread.
"""
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django_tenants.utils import tenant_context

from salesflow.org.models import Member, Role
from salesflow.org.tests.factories import PASSWORD, UserFactory
from conftest import browser_context, chromium_launch

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parents[2] / ".data" / "screenshots"
SHANGHAI = {"latitude": 31.2304, "longitude": 121.4737, "accuracy": 25}
COUNT_TAPS = "window.__taps = 0; document.addEventListener('pointerup', () => window.__taps++, true)"


def _off_thread(fn, *args):
    """Run `fn` on a worker thread with its own (autocommitting) database connection."""
    from django.db import connection

    def run():
        try:
            return fn(*args)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result(timeout=120)


def provision_throwaway_tenant(prefix: str, name: str):
    """A tenant of its own for a browser test (committed, so the live server sees it)."""
    import uuid

    from salesflow.tenancy.services import tenant_provision

    schema = f"{prefix}{uuid.uuid4().hex[:10]}"
    return tenant_provision(schema=schema, domain=f"{schema}.localhost", name=name,
                            admin_email=f"admin@{schema}.example.com", admin_password="admin-pass-123").tenant


def _create_tenant():
    from followups.tests.factories import AccountFactory, opportunity_make

    tenant = provision_throwaway_tenant("v", "Visit Co")
    with tenant_context(tenant):
        rep = UserFactory(username="visitor")
        Member.objects.create(user=rep, full_name="李拜访", role=Role.REP)
        opp = opportunity_make(owner=rep, account=AccountFactory(owner=rep, name="瑞金医院"), name="超声设备采购")
    return tenant, opp.pk


def _drop_tenant(tenant):
    from django.db import connection

    connection.set_schema_to_public()
    tenant.delete(force_drop=True)


def _visits(tenant, opp_id) -> list:
    from followups.models import FollowUp

    with tenant_context(tenant):
        return list(FollowUp.objects.filter(opportunity_id=opp_id, kind="visit").values(
            "location_status", "latitude"))


@pytest.fixture
def visit_setup(django_db_blocker):
    with django_db_blocker.unblock():
        tenant, opp_id = _off_thread(_create_tenant)
        yield tenant, opp_id
        _off_thread(_drop_tenant, tenant)


def _in_browser(scenario, *args):
    """Run `scenario(browser, *args)` in a thread of its own and return its result."""
    from playwright.sync_api import sync_playwright

    def run():
        with sync_playwright() as playwright:
            browser = chromium_launch(playwright)
            try:
                return scenario(browser, *args)
            finally:
                browser.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result(timeout=120)


def _signed_in_page(browser, base, opp_id, **context_options):
    context = browser_context(browser, viewport={"width": 375, "height": 812}, device_scale_factor=2, is_mobile=True,
                                  has_touch=True, locale="zh-CN", **context_options)
    page = context.new_page()
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", "visitor")
    page.fill("#id_password", PASSWORD)
    page.press("#id_password", "Enter")  # the header's language buttons are submit buttons too
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    page.goto(f"{base}/followups/opportunities/{opp_id}/")
    page.wait_for_function("window.htmx !== undefined")
    page.evaluate(COUNT_TAPS)
    return page


def _located_visit(browser, base, opp_id) -> dict:
    page = _signed_in_page(browser, base, opp_id, permissions=["geolocation"], geolocation=SHANGHAI)
    result = {"scroll_width": page.evaluate("document.documentElement.scrollWidth")}
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "visit-0-opportunity-375.png"), full_page=True)
    page.tap("#visit-done")
    page.wait_for_selector("#visit-sheet[data-location=given]")
    page.screenshot(path=str(SHOTS / "visit-1-sheet-375.png"))
    page.tap("[data-outcome=quote_sent]")
    page.tap("#visit-save")
    page.wait_for_selector("#visit-saved")
    page.screenshot(path=str(SHOTS / "visit-2-saved-375.png"))
    result["first_taps"] = page.evaluate("window.__taps")
    # The same three taps again, timed from the first tap to the confirmation on screen.
    page.reload()
    page.evaluate(COUNT_TAPS)
    started = time.monotonic()
    page.tap("#visit-done")
    page.tap("[data-outcome=quote_sent]")
    page.tap("#visit-save")
    page.wait_for_selector("#visit-saved")
    result["elapsed"] = time.monotonic() - started
    result["timed_taps"] = page.evaluate("window.__taps")
    return result


def _refused_visit(browser, base, opp_id) -> dict:
    page = _signed_in_page(browser, base, opp_id)  # no geolocation permission: the browser refuses
    page.tap("#visit-done")
    page.wait_for_selector("#visit-sheet[data-location=refused], #visit-sheet[data-location=unavailable]")
    fallback = page.inner_text("#visit-location")
    page.tap("[data-outcome=pending_signature]")
    page.screenshot(path=str(SHOTS / "visit-3-refused-375.png"))
    page.tap("#visit-save")
    page.wait_for_selector("#visit-saved")
    return {"taps": page.evaluate("window.__taps"), "fallback": fallback}


def _base(live_server_url, tenant) -> str:
    return live_server_url.replace("//localhost", f"//{tenant.schema_name}.localhost")


def test_a_rep_logs_a_visit_in_three_taps_and_under_three_seconds(visit_setup, live_server_url):
    tenant, opp_id = visit_setup
    result = _in_browser(_located_visit, _base(live_server_url, tenant), opp_id)
    assert result["scroll_width"] <= 375
    assert result["first_taps"] == 3 and result["timed_taps"] == 3
    assert result["elapsed"] < 3.0, f"visit log took {result['elapsed']:.2f}s"
    visits = _off_thread(_visits, tenant, opp_id)
    assert len(visits) == 2
    assert all(v["location_status"] == "given" and round(float(v["latitude"]), 4) == 31.2304 for v in visits)
    print(f"\nvisit log: 3 taps, {result['elapsed']:.2f}s from first tap to saved")


def test_a_refused_position_is_said_plainly_and_the_visit_still_saves(visit_setup, live_server_url):
    tenant, opp_id = visit_setup
    result = _in_browser(_refused_visit, _base(live_server_url, tenant), opp_id)
    assert result["taps"] == 3
    assert "位置" in result["fallback"] or "ocation" in result["fallback"]
    [visit] = _off_thread(_visits, tenant, opp_id)
    assert visit["location_status"] in ("refused", "unavailable") and visit["latitude"] is None


def _visit_time_in_new_york(browser, base, opp_id) -> str:
    page = _signed_in_page(browser, base, opp_id, timezone_id="America/New_York")
    page.tap("#visit-done")
    page.screenshot(path=str(SHOTS / "visit-4-tenant-time-375.png"))
    return page.inner_text("#visit-time")


def test_the_visit_sheet_shows_the_tenants_clock_not_the_phones(visit_setup, live_server_url):
    import datetime as dt
    import zoneinfo

    tenant, opp_id = visit_setup
    shown = _in_browser(_visit_time_in_new_york, _base(live_server_url, tenant), opp_id)
    now = dt.datetime.now(dt.timezone.utc)
    around = {(now + dt.timedelta(minutes=delta)).astimezone(zoneinfo.ZoneInfo(zone)).strftime("%H:%M")
              for delta in (-1, 0, 1) for zone in ("Asia/Shanghai",)}
    new_york = (now.astimezone(zoneinfo.ZoneInfo("America/New_York"))).strftime("%H:%M")
    assert shown.strip() in around and shown.strip() != new_york
