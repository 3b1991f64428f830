"""Date filters read ISO and the usual Chinese forms and refuse anything else, out loud."""
import datetime as dt

import pytest
from django.utils import timezone

from leads.models import Lead

from .factories import lead_submit


@pytest.fixture
def dated_leads(alpha):
    old = lead_submit(company="十月的医院").lead
    new = lead_submit(company="十一月的医院").lead
    Lead.objects.filter(pk=old.pk).update(created_at=dt.datetime(2026, 10, 5, 9, 0, tzinfo=timezone.get_current_timezone()))
    Lead.objects.filter(pk=new.pk).update(created_at=dt.datetime(2026, 11, 21, 9, 0, tzinfo=timezone.get_current_timezone()))
    return old, new


@pytest.mark.parametrize("typed", ["2026-11-20", "2026/11/20", "2026年11月20日", " 2026.11.20 "])
def test_the_lead_list_reads_iso_and_chinese_dates(alpha, client_for, dated_leads, typed):
    html = client_for(alpha, alpha.admin).get("/leads/", {"received_after": typed}).content.decode()
    assert "十一月的医院" in html and "十月的医院" not in html
    assert "errorlist" not in html


def test_an_unreadable_date_is_refused_next_to_its_field_once(alpha, client_for, dated_leads):
    response = client_for(alpha, alpha.admin).get("/leads/", {"received_after": "11/20/2026"})
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count("“11/20/2026” 不是可识别的日期") == 1
    field_at = html.index('name="received_after"')
    assert 0 < html.index("errorlist", field_at - 600) < field_at + 600


def test_the_htmx_table_says_which_date_it_could_not_read(alpha, client_for, dated_leads):
    partial = client_for(alpha, alpha.admin).get(
        "/leads/", {"received_before": "20/11/2026"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="lead-table")
    body = partial.content.decode()
    assert "<html" not in body and 'role="alert"' in body and "“20/11/2026”" in body


def test_the_routing_log_refuses_an_unreadable_date_and_keeps_filters_across_pages(alpha, client_for):
    for number in range(52):
        lead_submit(company=f"翻页{number}")
    client = client_for(alpha, alpha.admin)
    html = client.get("/leads/routing-log/", {"decided_after": "2026-13-45", "outcome": "assigned"}).content.decode()
    assert "“2026-13-45”" in html
    html = client.get("/leads/routing-log/", {"decided_after": "2020年1月1日"}).content.decode()
    assert "decided_after=2020%E5%B9%B41%E6%9C%881%E6%97%A5&amp;page=2" in html
