"""The rep's two thumb flows on a 375-px phone, against a real gunicorn and Chromium.

Database work and the browser each run in a worker thread: Playwright's sync API keeps an
event loop on the thread that starts it, and Django refuses ORM calls on such a thread.
"""
import uuid
from pathlib import Path

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from conftest import ADMIN_PASSWORD, off_main_thread, on_phone, tenant_url
from leads.models import Lead, LeadStatus, RoutingRule, Strategy
from salesflow.org.tests.factories import PASSWORD, MemberFactory, TeamFactory, UserFactory
from salesflow.tenancy.services import tenant_provision

from .factories import lead_submit

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parents[2] / ".data" / "screenshots"


@pytest.fixture
def mobile_tenant(django_db_setup, django_db_blocker):
    """A committed tenant with one rep, one lead routed to them and one lead in the pool; dropped after."""
    schema = f"m{uuid.uuid4().hex[:10]}"

    def setup():
        with django_db_blocker.unblock():
            tenant = tenant_provision(schema=schema, domain=f"{schema}.localhost", name="Mobile Co",
                                      admin_email=f"admin@{schema}.example.com", admin_password=ADMIN_PASSWORD).tenant
            with schema_context(schema):
                team = TeamFactory(name="移动组")
                rep = MemberFactory(user=UserFactory(username="mobile_rep"), team=team).user
                RoutingRule.objects.update(enabled=False)
                rule = RoutingRule.objects.create(name="A/B → 移动组", position=1, strategy=Strategy.ROUND_ROBIN, budget_grades=["A", "B"])
                rule.pool_teams.add(team)
                mine = lead_submit(company="浦东新区人民医院", budget_grade="B").lead
                pooled = lead_submit(company="闵行社区卫生院", budget_grade="C").lead
            return tenant, rep, mine, pooled

    tenant, rep, mine, pooled = off_main_thread(setup)
    assert mine.owner_id == rep.pk and pooled.status == LeadStatus.POOL
    yield schema, rep, mine, pooled

    def drop():
        with django_db_blocker.unblock():
            connection.set_schema_to_public()
            tenant.delete(force_drop=True)

    off_main_thread(drop)


def _lead(django_db_blocker, schema, pk):
    def load():
        with django_db_blocker.unblock(), schema_context(schema):
            return Lead.objects.get(pk=pk)

    return off_main_thread(load)


def _sign_in(page, base, schema, path):
    page.goto(tenant_url(base, schema, path))
    page.fill("#id_username", "mobile_rep")
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(tenant_url(base, schema, path))


def test_a_rep_accepts_a_new_lead_and_logs_the_first_call_with_one_tap(mobile_tenant, live_server_url, django_db_blocker):
    schema, rep, lead, _ = mobile_tenant
    SHOTS.mkdir(parents=True, exist_ok=True)

    def flow(page):
        _sign_in(page, live_server_url, schema, "/leads/")
        card = page.locator(f"#lead-{lead.pk}")
        assert card.locator("text=浦东新区人民医院").is_visible()
        page.screenshot(path=str(SHOTS / "leads-rep-new-375.png"), full_page=True)
        card.locator("button.primary").click()
        page.wait_for_selector(".msg")
        page.locator(f"#lead-{lead.pk} button[name=kind][value=call]").tap()
        page.wait_for_selector(".msg")
        page.screenshot(path=str(SHOTS / "leads-rep-touched-375.png"), full_page=True)
        return page.evaluate("document.documentElement.scrollWidth")

    assert on_phone(flow) <= 375
    lead = _lead(django_db_blocker, schema, lead.pk)
    assert lead.status == LeadStatus.CONTACTED and lead.accepted_at and lead.first_touch_at


def test_a_rep_claims_a_pool_lead_on_a_phone(mobile_tenant, live_server_url, django_db_blocker):
    schema, rep, _, pooled = mobile_tenant
    SHOTS.mkdir(parents=True, exist_ok=True)

    def flow(page):
        _sign_in(page, live_server_url, schema, "/leads/pool/")
        item = page.locator(f"#pool-{pooled.pk}")
        assert item.locator("text=闵行社区卫生院").is_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        page.screenshot(path=str(SHOTS / "leads-pool-375.png"), full_page=True)
        item.locator("button.primary").tap()
        page.wait_for_url(tenant_url(live_server_url, schema, f"/leads/{pooled.pk}/"))
        page.screenshot(path=str(SHOTS / "leads-claimed-375.png"), full_page=True)
        return width

    assert on_phone(flow) <= 375
    assert _lead(django_db_blocker, schema, pooled.pk).owner_id == rep.pk


def test_a_visitor_sends_the_web_form_on_a_phone_and_the_lead_routes_by_the_lists(mobile_tenant, live_server_url,
                                                                                    django_db_blocker):
    schema, rep, _, _ = mobile_tenant
    SHOTS.mkdir(parents=True, exist_ok=True)

    def rule():
        with django_db_blocker.unblock(), schema_context(schema):
            tier_rule = RoutingRule.objects.create(name="三甲 → 移动组", position=0, strategy=Strategy.ROUND_ROBIN,
                                                   tiers=["tertiary_hospital"], match_lead_product_line=True)
            tier_rule.pool_teams.add(rep.member.team_id)

    off_main_thread(rule)

    def flow(page):
        page.goto(tenant_url(live_server_url, schema, "/form/"))
        page.fill("#id_company", "宁波市第二人民医院")
        page.fill("#id_contact_name", "孙主任")
        page.fill("#id_phone", "139 1111 0077")
        page.select_option("#id_region", label="华东区")
        page.select_option("#id_product_line", label="影像设备")
        page.select_option("#id_tier", label="三甲医院")
        width = page.evaluate("document.documentElement.scrollWidth")
        page.screenshot(path=str(SHOTS / "leads-web-form-375.png"), full_page=True)
        page.locator("button[type=submit]").first.tap()
        page.wait_for_url(tenant_url(live_server_url, schema, "/form/thanks/"))
        return width

    assert on_phone(flow) <= 375

    def sent():
        with django_db_blocker.unblock(), schema_context(schema):
            return Lead.objects.select_related("routing_rule").get(phone_normalized="+8613911110077")

    lead = off_main_thread(sent)
    assert (lead.channel, lead.region, lead.product_line, lead.tier) == ("web_form", "华东区", "影像设备", "tertiary_hospital")
    assert lead.owner_id == rep.pk and lead.routing_rule.name == "三甲 → 移动组"
