"""The routing story of a lead decided among 300 reps in one pool, read in Chromium on a phone and a desktop:
every candidate is listed (rebuilt from the roster version), and the page fits the phone's width."""
from pathlib import Path

import pytest
from django_tenants.utils import schema_context

from conftest import ADMIN_PASSWORD, off_main_thread, on_desktop, on_phone, tenant_url
from leads.models import RoutingRule, Strategy
from salesflow.org.models import Availability, Member
from salesflow.org.tests.factories import MemberFactory, TeamFactory, UserFactory

from .factories import lead_submit

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parents[2] / ".data" / "screenshots"
POOL_SIZE = 300


@pytest.fixture
def story(committed_tenant, django_db_blocker):
    """One round-robin rule pooling 300 reps (one away, one at capacity) and one lead routed among them;
    → (schema, lead id, names of the away and the full rep, every rep's name)."""
    schema = committed_tenant.schema_name

    def setup():
        with django_db_blocker.unblock(), schema_context(schema):
            team = TeamFactory(name="全国大池")
            reps = [MemberFactory(user=UserFactory(), team=team, capacity=20) for _ in range(POOL_SIZE)]
            Member.objects.filter(pk=reps[0].pk).update(availability=Availability.ON_LEAVE, away_from=None, away_until=None)
            Member.objects.filter(pk=reps[1].pk).update(capacity=0)
            RoutingRule.objects.update(enabled=False)
            rule = RoutingRule.objects.create(name="B → 全国大池", position=1, strategy=Strategy.ROUND_ROBIN,
                                              budget_grades=["B"])
            rule.pool_teams.add(team)
            lead = lead_submit(company="杭州市第一人民医院", budget_grade="B").lead
            return schema, lead.pk, reps[0].full_name, reps[1].full_name, [rep.full_name for rep in reps]

    return off_main_thread(setup)


def _read_story(base: str, schema: str, lead_id: int, shot: str):
    def flow(page):
        path = f"/leads/{lead_id}/"
        page.goto(tenant_url(base, schema, path))
        page.fill("#id_username", f"admin@{schema}.example.com")
        page.fill("#id_password", ADMIN_PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url(tenant_url(base, schema, path))
        page.locator("details.candidates summary").first.click()
        items = page.locator("details.candidates li").all_inner_texts()
        rebuilt = page.locator("details.candidates .rebuilt").first.is_visible()
        page.screenshot(path=str(SHOTS / shot), full_page=False)
        return items, rebuilt, page.evaluate("document.documentElement.scrollWidth")

    return flow


def test_the_story_of_a_lead_routed_among_300_reps_lists_every_candidate_on_a_phone_and_a_desktop(
        story, live_server_url):
    schema, lead_id, away, full, names = story
    SHOTS.mkdir(parents=True, exist_ok=True)
    items, rebuilt, width = on_phone(_read_story(live_server_url, schema, lead_id, "leads-story-300-375.png"))
    assert len(items) == POOL_SIZE and rebuilt and width <= 375
    assert sorted(item.split("：")[0] for item in items) == sorted(names)  # Chinese: full-width colon
    [away_item] = [item for item in items if item.startswith(away)]
    [full_item] = [item for item in items if item.startswith(full)]
    assert "跳过" in away_item and "跳过" in full_item and away_item != full_item

    items, rebuilt, _ = on_desktop(_read_story(live_server_url, schema, lead_id, "leads-story-300-1280-en.png"),
                                   locale="en-US")
    assert len(items) == POOL_SIZE and rebuilt
    assert sum(": chosen" in item for item in items) == 1 and sum(": skipped" in item for item in items) == 2
