"""The main pages work under the Content-Security-Policy: Chromium reports no violation on any of them."""
import uuid
from pathlib import Path

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from conftest import ADMIN_PASSWORD, off_main_thread, on_phone, tenant_url
from salesflow.org.models import Role
from salesflow.org.tests.factories import PASSWORD, MemberFactory, TeamFactory, UserFactory
from salesflow.tenancy.services import tenant_provision

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parents[2] / ".data" / "screenshots"
# Every violation is also dispatched as an event: collected here, read after each page.
WATCH = ("window.__csp = []; document.addEventListener('securitypolicyviolation', "
         "e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + (e.sample || '')));")


@pytest.fixture
def csp_tenant(django_db_setup, django_db_blocker):
    """A committed tenant with a manager, a rep, a lead and an opportunity with an open task."""
    from followups.models import Stage
    from followups.services import opportunity_stage_change
    from followups.tests.factories import opportunity_make
    from leads.tests.factories import lead_submit

    schema = f"c{uuid.uuid4().hex[:10]}"

    def setup():
        with django_db_blocker.unblock():
            tenant = tenant_provision(schema=schema, domain=f"{schema}.localhost", name="CSP Co",
                                      admin_email=f"admin@{schema}.example.com", admin_password=ADMIN_PASSWORD).tenant
            with schema_context(schema):
                manager = MemberFactory(user=UserFactory(username="csp_manager"), role=Role.MANAGER, team=None).user
                team = TeamFactory(name="安全组", manager=manager)
                rep = MemberFactory(user=UserFactory(username="csp_rep"), team=team).user
                lead = lead_submit(company="浦东新区人民医院", budget_grade="C").lead
                opportunity = opportunity_make(owner=rep, credit=15)
                opportunity_stage_change(actor=rep, opportunity=opportunity,
                                         to_stage=Stage.objects.get(code="solution_demo"), via="web")
            return tenant, lead.pk, opportunity.pk, opportunity.account_id

    tenant, lead_id, opportunity_id, account_id = off_main_thread(setup)
    yield schema, lead_id, opportunity_id, account_id

    def drop():
        with django_db_blocker.unblock():
            connection.set_schema_to_public()
            tenant.delete(force_drop=True)

    off_main_thread(drop)


def _visit_all(page, base, schema, username, password, paths) -> dict[str, list[str]]:
    page.add_init_script(WATCH)
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text) if "Content Security Policy" in message.text else None)
    page.goto(tenant_url(base, schema, "/accounts/login/"))
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("main button[type=submit]")
    page.wait_for_load_state("networkidle")
    found = {}
    for path in paths:
        response = page.goto(tenant_url(base, schema, path))
        page.wait_for_load_state("networkidle")
        assert response.status == 200, (path, response.status)
        assert "script-src 'self'" in response.headers.get("content-security-policy", ""), path
        found[path] = page.evaluate("window.__csp") + console[:]
        console.clear()
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"csp-{username.split('@')[0]}{path.replace('/', '-')}.png"), full_page=True)
    return found


def test_the_main_pages_raise_no_policy_violation(csp_tenant, live_server_url):
    schema, lead_id, opportunity_id, account_id = csp_tenant
    manager_pages = ["/", "/team/", "/leads/", "/leads/pool/", "/leads/new/", "/leads/routing-log/", "/leads/speed/",
                     f"/leads/{lead_id}/", "/followups/board/", "/followups/stagnant/", "/followups/compliance/",
                     f"/followups/opportunities/{opportunity_id}/", f"/followups/accounts/{account_id}/",
                     "/notifications/", "/form/", "/targets/", "/targets/heatmap/"]
    rep_pages = ["/", "/leads/", "/followups/today/", f"/followups/opportunities/{opportunity_id}/"]
    admin_pages = ["/admin/", "/admin/leads/routingrule/", "/admin/org/tenantsettings/1/change/", "/admin/audit/auditentry/"]
    found = on_phone(lambda page: _visit_all(page, live_server_url, schema, "csp_manager", PASSWORD, manager_pages))
    found |= on_phone(lambda page: _visit_all(page, live_server_url, schema, "csp_rep", PASSWORD, rep_pages))
    found |= on_phone(lambda page: _visit_all(page, live_server_url, schema, f"admin@{schema}.example.com",
                                              ADMIN_PASSWORD, admin_pages))
    assert {path: problems for path, problems in found.items() if problems} == {}


def test_the_visit_sheet_still_opens_under_the_policy(csp_tenant, live_server_url):
    """The one page with its own script: the static file runs, the sheet opens."""
    schema, _, opportunity_id, _ = csp_tenant

    def flow(page):
        _visit_all(page, live_server_url, schema, "csp_rep", PASSWORD, [])
        page.goto(tenant_url(live_server_url, schema, f"/followups/opportunities/{opportunity_id}/"))
        page.locator("#visit-done").tap()
        return page.locator("#visit-sheet").is_visible(), page.evaluate("window.__csp")

    visible, violations = on_phone(flow)
    assert visible and violations == []
