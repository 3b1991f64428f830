"""The board in Chromium: filters in the URL survive a reload; readable at 1280 px, cards at 375 px."""
import pytest
from django_tenants.utils import tenant_context

from followups.models import Light, Opportunity
from salesflow.org.models import Member, Role
from salesflow.org.tests.factories import PASSWORD, RegionFactory, TeamFactory, UserFactory

from conftest import browser_context

from .test_browser_visit_log import SHOTS, _base, _drop_tenant, _in_browser, _off_thread, provision_throwaway_tenant

pytestmark = pytest.mark.browser


def _create_tenant():
    from followups.tests.factories import AccountFactory, opportunity_make

    tenant = provision_throwaway_tenant("b", "Board Co")
    with tenant_context(tenant):
        boss = UserFactory(username="boss")
        team = TeamFactory(name="上海一组", region=RegionFactory(name="华东区"), manager=boss)
        Member.objects.create(user=boss, full_name="唐经理", role=Role.MANAGER, team=team)
        rep = UserFactory(username="seller")
        Member.objects.create(user=rep, full_name="欧阳晓明", role=Role.REP, team=team)
        for number in range(6):
            account = AccountFactory(owner=rep, name=f"上海市第{number}人民医院（浦东新区分院）医学影像中心")
            opp = opportunity_make(owner=rep, account=account, name=f"第{number}期超声影像设备及配套耗材集中采购项目",
                                   stage="negotiation", amount=12_000_000 + number)
            if number % 2:
                Opportunity.objects.filter(pk=opp.pk).update(light=Light.RED)
    return tenant


def _board(browser, base) -> dict:
    result = {}
    for width in (1280, 375):
        context = browser_context(browser, viewport={"width": width, "height": 900}, locale="zh-CN")
        page = context.new_page()
        page.goto(f"{base}/accounts/login/")
        page.fill("#id_username", "boss")
        page.fill("#id_password", PASSWORD)
        page.press("#id_password", "Enter")
        page.wait_for_url(lambda url: "/accounts/login/" not in url)
        page.goto(f"{base}/followups/board/")
        page.wait_for_function("window.htmx !== undefined")
        with page.expect_response(lambda r: "/followups/board/" in r.url):
            page.select_option("#id_light", str(Light.RED))
        page.wait_for_function("location.search.includes('light=')")
        result[f"url_{width}"] = page.url
        page.reload()
        result[f"kept_{width}"] = page.eval_on_selector("#id_light", "e => e.value")
        result[f"rows_{width}"] = page.locator("#board-rows tbody tr").count()
        result[f"scroll_{width}"] = page.evaluate("document.documentElement.scrollWidth")
        result[f"rep_{width}"] = page.evaluate(
            "(() => { const td = document.querySelector('#board-rows td[data-label=\"销售\"]');"
            " const r = td.getBoundingClientRect(); return {w: r.width, h: r.height}; })()")
        page.screenshot(path=str(SHOTS / f"board-filtered-{width}.png"), full_page=True)
        context.close()
    return result


def test_board_filters_survive_a_reload_and_the_table_reads_at_both_widths(django_db_blocker, live_server_url):
    SHOTS.mkdir(parents=True, exist_ok=True)
    with django_db_blocker.unblock():
        tenant = _off_thread(_create_tenant)
        try:
            result = _in_browser(_board, _base(live_server_url, tenant))
        finally:
            _off_thread(_drop_tenant, tenant)
    for width in (1280, 375):
        assert result[f"url_{width}"].endswith(f"/followups/board/?light={Light.RED}")
        assert result[f"kept_{width}"] == str(Light.RED) and result[f"rows_{width}"] == 3
        assert result[f"scroll_{width}"] <= width
    # The rep's name on one line at desktop width, not one character per line.
    assert result["rep_1280"]["h"] < 45 and result["rep_1280"]["w"] > 50
