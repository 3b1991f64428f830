"""A tenant admin on a phone sees the outside notifications that could not be sent."""
from pathlib import Path

import pytest
from django_tenants.utils import schema_context

from conftest import ADMIN_PASSWORD, off_main_thread, on_phone, tenant_url
from salesflow.notifications.models import Channel, Delivery

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parents[3] / ".data" / "screenshots"


def test_the_admin_sees_the_failed_count_in_the_inbox_and_reaches_the_re_send_list(
    committed_tenant, live_server_url, django_db_blocker
):
    schema = committed_tenant.schema_name
    SHOTS.mkdir(parents=True, exist_ok=True)

    def setup():
        with django_db_blocker.unblock(), schema_context(schema):
            channel = Channel.objects.create(name="销售群", kind=Channel.Kind.WECOM,
                                             webhook_url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k")
            for n in range(2):
                Delivery.objects.create(event_key=f"e{n}", channel=channel, target=f"robot:{channel.pk}", subject="s",
                                        text="t", status=Delivery.Status.FAILED, attempts=6, last_error="gave up")

    off_main_thread(setup)

    def flow(page):
        page.goto(tenant_url(live_server_url, schema, "/notifications/"))
        page.fill("#id_username", f"admin@{schema}.example.com")
        page.fill("#id_password", ADMIN_PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url(tenant_url(live_server_url, schema, "/notifications/"))
        notice = page.locator(".errornote").inner_text()
        width = page.evaluate("document.documentElement.scrollWidth")
        page.screenshot(path=str(SHOTS / "notifications-failed-inbox-375.png"), full_page=True)
        page.locator(".errornote a").tap()
        page.wait_for_url("**/admin/notifications/delivery/?status__exact=failed")
        rows = page.locator("#result_list tbody tr").count()
        page.screenshot(path=str(SHOTS / "notifications-failed-admin-375.png"), full_page=True)
        return notice, width, rows

    notice, width, rows = on_phone(flow)
    assert "2 条外部通知未能发送" in notice and width <= 375 and rows == 2
