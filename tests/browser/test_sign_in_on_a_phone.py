from pathlib import Path

import pytest

from conftest import on_phone, tenant_url
from salesflow.org.tests.factories import PASSWORD

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parents[2] / ".data" / "screenshots"


def _sign_in(page, live_server_url, username):
    page.goto(tenant_url(live_server_url, "alpha", "/"))
    assert "/accounts/login/" in page.url
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(tenant_url(live_server_url, "alpha", "/"))


def test_a_manager_signs_in_on_a_phone_and_sees_their_team(live_server_url):
    def flow(page):
        _sign_in(page, live_server_url, "manager")
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "manager-home-375.png"), full_page=True)
        return {
            "table_visible": page.locator("#team-table").is_visible(),
            "rows": page.locator("#team-table tbody tr").count(),
            "scroll_width": page.evaluate("document.documentElement.scrollWidth"),
            "other_team_shown": page.locator("text=rep_b").count(),
        }

    seen = on_phone(flow)
    assert seen["table_visible"] and seen["rows"] >= 2
    assert seen["scroll_width"] <= 375  # nothing sticks out sideways on a phone


def test_a_rep_switches_to_english_on_a_phone(live_server_url):
    def flow(page):
        _sign_in(page, live_server_url, "rep")
        chinese = page.locator("text=退出").is_visible()
        page.click("button[name=language][value=en]")
        page.wait_for_selector("text=Sign out")
        page.screenshot(path=str(SHOTS / "rep-home-en-375.png"), full_page=True)
        return chinese, page.locator("html").get_attribute("lang"), page.evaluate("document.documentElement.scrollWidth")

    chinese, lang, width = on_phone(flow)
    assert chinese and lang == "en" and width <= 375
