"""The record's table of key-person touches: months by when each touch happened, in the
tenant's time zone, so every row's months add up to its total (hand-counted fixture)."""
import datetime as dt
import io
import subprocess
import zipfile

import pytest
from django.utils import timezone

from audit.export.selectors import record_entries
from audit.export.services import export_build, export_request
from audit.export.summary import record_summary
from audit.models import AuditEntry
from followups.models import ContactRole
from followups.services import followup_log
from followups.tests.factories import AccountFactory, ContactFactory, opportunity_make

UTC = dt.timezone.utc


@pytest.fixture
def touched(alpha):
    """Six touches of one hospital, all logged now; the hand count is in the test below."""
    account = AccountFactory(owner=alpha.rep, name="苏州市立医院")
    wang = ContactFactory(account=account, name="王主任", role=ContactRole.CIO, is_key_person=True)
    li = ContactFactory(account=account, name="李处长", role=ContactRole.PURCHASING, is_key_person=True)
    zhao = ContactFactory(account=account, name="赵护士长", role=ContactRole.END_USER, is_key_person=False)
    opportunity = opportunity_make(owner=alpha.rep, account=account)
    for when, who in [
        (dt.datetime(2026, 8, 31, 17, 0, tzinfo=UTC), [wang]),  # 1 September 01:00 in Shanghai
        (dt.datetime(2026, 9, 15, 3, 0, tzinfo=UTC), [wang, li]),  # September, one touch of two key people
        (dt.datetime(2026, 10, 10, 3, 0, tzinfo=UTC), [zhao]),  # October, nobody key
        (dt.datetime(2026, 10, 31, 16, 30, tzinfo=UTC), [li]),  # 1 November 00:30 in Shanghai
        (dt.datetime(2026, 11, 20, 3, 0, tzinfo=UTC), [wang]),  # November
        (dt.datetime(2026, 7, 20, 3, 0, tzinfo=UTC), [wang]),  # before the period
    ]:
        followup_log(actor=alpha.rep, opportunity=opportunity, kind="visit", summary="拜访", contacts=who,
                     occurred_at=when)
    return account


def _summary(account, since, until):
    entries = record_entries(account=account, since=since, until=until, up_to_seq=AuditEntry.objects.count())
    with timezone.override(dt.timezone(dt.timedelta(hours=8))):
        return record_summary(entries=entries, account=account, since=since, until=until, required=10)


def test_months_count_when_the_touch_happened_and_add_up_to_the_totals(touched):
    # Every follow-up was logged today, after the period: the touches still belong to it.
    summary = _summary(touched, dt.date(2026, 8, 1), dt.date(2026, 11, 30))
    assert summary.months == ["2026-08", "2026-09", "2026-10", "2026-11"]
    rows = {row.name: (row.per_month, row.total) for row in summary.people}
    assert rows == {"王主任": ([0, 2, 0, 1], 3), "李处长": ([0, 1, 0, 1], 2)}
    assert summary.per_month_key_touches == [0, 2, 0, 2]
    assert summary.key_touches == 4 == sum(summary.per_month_key_touches)
    assert summary.outside_period == 0 and summary.touches == 5  # July: neither logged nor done in the period


def test_a_touch_logged_in_the_period_but_done_before_it_is_in_no_month(touched):
    summary = _summary(touched, dt.date(2026, 8, 1), None)
    assert summary.months[:4] == ["2026-08", "2026-09", "2026-10", "2026-11"]
    assert summary.outside_period == 1 and summary.touches == 6  # the July touch was logged today
    assert summary.key_touches == 4 == sum(summary.per_month_key_touches)
    assert sum(row.total for row in summary.people) == 5


def test_without_a_period_the_months_start_at_the_first_touch(touched):
    summary = _summary(touched, None, None)
    assert summary.months[:5] == ["2026-07", "2026-08", "2026-09", "2026-10", "2026-11"]
    wang = next(row for row in summary.people if row.name == "王主任")
    assert wang.per_month[:5] == [1, 0, 2, 0, 1] and wang.total == 4
    assert summary.key_touches == 5 == sum(summary.per_month_key_touches)
    assert summary.outside_period == 0


def test_the_pdf_table_shows_the_same_months_and_totals(alpha, touched, poppler_utils):
    export = export_request(actor=alpha.rep, account=touched, queue=False, language="zh-hans",
                            since=dt.date(2026, 8, 1), until=dt.date(2026, 11, 30))
    export = export_build(export_id=export.pk)
    with zipfile.ZipFile(io.BytesIO(bytes(export.archive))) as archive:
        pdf = archive.read("record.pdf")
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    lines = [" ".join(line.split()) for line in text.splitlines()]
    assert any(line.startswith("王主任") and line.endswith("0 2 0 1 3") for line in lines), text
    assert any(line.startswith("李处长") and line.endswith("0 1 0 1 2") for line in lines), text
    assert any(line.endswith("0 2 0 2 4") for line in lines), text
