"""Two report runs at the same clock at once (beat and the command): each report goes out once."""
import datetime as dt
import threading
import zoneinfo

from django.db import connections
from django_tenants.utils import tenant_context

from audit.health.report import send_due_health_reports
from audit.models import WeeklyHealthReport
from salesflow.notifications.models import Notification
from salesflow.org.models import Role
from salesflow.org.tests.factories import MemberFactory, TeamFactory, UserFactory

MONDAY_8 = dt.datetime(2026, 11, 23, 8, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))


def test_two_runs_racing_send_each_managers_report_once(committed_tenant):
    with tenant_context(committed_tenant):
        for number in range(4):
            manager = MemberFactory(user=UserFactory(username=f"race_manager_{number}"), role=Role.MANAGER, team=None)
            team = TeamFactory(name=f"race team {number}", manager=manager.user)
            MemberFactory(user=UserFactory(username=f"race_rep_{number}"), team=team)
    sent, barrier = [], threading.Barrier(2)

    def run():
        try:
            with tenant_context(committed_tenant):
                barrier.wait()
                sent.append(send_due_health_reports(now=MONDAY_8))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(sent) == [0, 4]
    with tenant_context(committed_tenant):
        assert WeeklyHealthReport.objects.count() == 4
        assert Notification.objects.filter(event_key__startswith="health:weekly:2026-W48:").count() == 4
