"""The SLA scan: lights, golden 48 hours, stagnation, reminders, and each alert exactly once."""
import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.db import connection

from audit.models import AuditEntry
from followups.models import AlertKind, Light, Opportunity, SlaAlert, SlaPolicy, Stage
from followups.services import followup_log, opportunity_stage_change, sla_scan
from followups.tasks import sla_scan_task
from forecasting.tests.factories import credit_give
from salesflow.notifications.models import Notification
from salesflow.org.models import Holiday, TenantSettings

from .factories import opportunity_make

NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)  # a Friday


def _silent(alpha, *, hours: float, **kw) -> Opportunity:
    last = NOW - dt.timedelta(hours=hours)
    return opportunity_make(owner=alpha.rep, created_at=last - dt.timedelta(days=1), last_activity_at=last,
                            stage_entered_at=last, next_due_at=NOW + dt.timedelta(days=5), **kw)


def _log(alpha, opportunity, text, when):
    return followup_log(actor=alpha.rep, opportunity=opportunity, kind="call", summary=text, occurred_at=when)


def test_a_silent_opportunity_alerts_the_rep_and_their_manager_with_the_last_three_summaries(alpha):
    opp = _silent(alpha, hours=60)
    for day, text in enumerate(["第一次电话", "第二次拜访", "第三次报价", "第四次跟进"]):
        _log(alpha, opp, text, NOW - dt.timedelta(hours=120 - day))
    Opportunity.objects.filter(pk=opp.pk).update(last_activity_at=NOW - dt.timedelta(hours=60))

    result = sla_scan(now=NOW)

    golden = SlaAlert.objects.get(kind=AlertKind.GOLDEN, opportunity=opp)
    notes = Notification.objects.filter(event_key=f"sla:golden48:{opp.pk}:{golden.lapse.isoformat()}")
    assert {n.recipient_id for n in notes} == {alpha.rep.pk, alpha.manager.pk}
    body = notes.first().body_text
    assert "第四次跟进" in body and "第三次报价" in body and "第二次拜访" in body and "第一次电话" not in body
    assert result.alerts >= 1
    assert AuditEntry.objects.filter(verb="sla.golden48", target_id=str(opp.pk)).count() == 1


def test_47_hours_of_silence_is_still_inside_the_golden_window(alpha):
    opp = _silent(alpha, hours=47)
    sla_scan(now=NOW)
    assert not SlaAlert.objects.filter(kind=AlertKind.GOLDEN, opportunity=opp).exists()


def test_a_second_scan_at_the_same_clock_raises_nothing(alpha):
    _silent(alpha, hours=72)
    first = sla_scan(now=NOW)
    notes = Notification.objects.count()
    entries = AuditEntry.objects.count()
    second = sla_scan(now=NOW)
    assert first.alerts > 0 and second.alerts == 0
    assert Notification.objects.count() == notes and AuditEntry.objects.count() == entries
    assert (second.green, second.yellow, second.red) == (first.green, first.yellow, first.red)


def test_a_new_follow_up_ends_the_lapse_and_the_next_silence_starts_a_new_one(alpha):
    opp = _silent(alpha, hours=50)
    sla_scan(now=NOW)
    _log(alpha, opp, "客户回电", NOW)
    later = NOW + dt.timedelta(hours=30)
    assert sla_scan(now=later).alerts == 0
    much_later = NOW + dt.timedelta(hours=49)
    sla_scan(now=much_later)
    lapses = list(SlaAlert.objects.filter(kind=AlertKind.GOLDEN, opportunity=opp).values_list("lapse", flat=True))
    assert sorted(lapses) == [NOW - dt.timedelta(hours=50), NOW]


def test_lights_are_stored_from_the_due_time_and_the_customer_takes_the_worst(alpha):
    green = opportunity_make(owner=alpha.rep, created_at=NOW - dt.timedelta(hours=5), next_due_at=NOW + dt.timedelta(days=1))
    yellow = opportunity_make(owner=alpha.rep, created_at=NOW - dt.timedelta(hours=5), next_due_at=NOW - dt.timedelta(days=2),
                              account=green.account)
    red = opportunity_make(owner=alpha.rep, created_at=NOW - dt.timedelta(hours=5), next_due_at=NOW - dt.timedelta(days=4))
    result = sla_scan(now=NOW)
    for opp, light in ((green, Light.GREEN), (yellow, Light.YELLOW), (red, Light.RED)):
        opp.refresh_from_db()
        assert opp.light == light
    green.account.refresh_from_db()
    assert green.account.light == Light.YELLOW
    assert (result.green, result.yellow, result.red) == (1, 1, 1)
    # Crossing into red is alerted (and audited) once.
    assert SlaAlert.objects.filter(kind=AlertKind.RED, opportunity=red).count() == 1
    assert AuditEntry.objects.filter(verb="sla.red", target_id=str(red.pk)).count() == 1


def test_a_tenant_choosing_seven_and_fourteen_days_sees_other_colours(alpha):
    SlaPolicy.objects.filter(pk=1).update(yellow_after_days=7, red_after_days=14)
    opp = opportunity_make(owner=alpha.rep, created_at=NOW - dt.timedelta(hours=5), next_due_at=NOW - dt.timedelta(days=4))
    sla_scan(now=NOW)
    opp.refresh_from_db()
    assert opp.light == Light.GREEN


def test_stagnation_counts_working_days_in_the_tenants_calendar(alpha):
    TenantSettings.objects.filter(pk=1).update(weekend_days=[5, 6], time_zone="Asia/Shanghai")
    from salesflow.org.services import tenant_settings_forget

    tenant_settings_forget()
    # Entered Friday 13 Nov 09:00 Shanghai; Mon 16 … Fri 20 = 5 working days by Friday 20th: not yet stagnant.
    entered = dt.datetime(2026, 11, 13, 1, 0, tzinfo=dt.UTC)
    opp = opportunity_make(owner=alpha.rep, created_at=entered, stage_entered_at=entered, last_activity_at=entered,
                           next_due_at=NOW + dt.timedelta(days=3))
    assert sla_scan(now=NOW).stagnant == 0
    # Monday 23rd is the 6th working day: stagnant, the manager is told once.
    monday = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)
    assert sla_scan(now=monday).stagnant == 1
    alert = SlaAlert.objects.get(kind=AlertKind.STAGNANT, opportunity=opp)
    assert list(Notification.objects.filter(event_key__startswith=f"sla:stagnant:{opp.pk}:").values_list("recipient_id", flat=True)) == [alpha.manager.pk]
    assert alert.owner_id == alpha.rep.pk
    # Make that Monday a holiday: only 5 working days have passed again.
    SlaAlert.objects.all().delete()
    Holiday.objects.create(date=dt.date(2026, 11, 23), name="公司假日")
    assert sla_scan(now=monday).stagnant == 0


def test_moving_the_stage_starts_its_reminders_and_they_alert_the_rep_when_due(alpha):
    opp = opportunity_make(owner=alpha.rep, created_at=NOW - dt.timedelta(days=1), next_due_at=NOW + dt.timedelta(days=9),
                           credit=15)
    demo = Stage.objects.get(code="solution_demo")
    opportunity_stage_change(actor=alpha.rep, opportunity=opp, to_stage=demo, via="web", now=NOW)
    titles = sorted((t.due_at - NOW, t.title) for t in opp.tasks.all())
    assert [delta for delta, _ in titles] == [dt.timedelta(hours=48), dt.timedelta(hours=72)]
    Opportunity.objects.filter(pk=opp.pk).update(last_activity_at=NOW + dt.timedelta(hours=47))
    sla_scan(now=NOW + dt.timedelta(hours=49))
    assert SlaAlert.objects.filter(kind=AlertKind.REMINDER, opportunity=opp).count() == 1


def test_the_command_prints_the_summary_line_for_the_tenant(alpha):
    _silent(alpha, hours=100)
    out = io.StringIO()
    call_command("run_sla_scan", "--schema", "alpha", "--now", NOW.isoformat(), stdout=out)
    last = out.getvalue().strip().splitlines()[-1]
    assert last.startswith("sla scan alpha: alerts=")
    import re

    assert re.fullmatch(r"sla scan alpha: alerts=\d+ green=\d+ yellow=\d+ red=\d+ stagnant=\d+ released=\d+", last)
    again = io.StringIO()
    call_command("run_sla_scan", "--schema", "alpha", "--now", NOW.isoformat(), stdout=again)
    assert "alerts=0 " in again.getvalue().strip().splitlines()[-1]


def test_the_command_refuses_a_clock_without_offset_and_an_unknown_schema(alpha):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("run_sla_scan", "--schema", "alpha", "--now", "2026-11-20T10:00:00")
    with pytest.raises(CommandError):
        call_command("run_sla_scan", "--schema", "nope", "--now", NOW.isoformat())


def test_a_redelivered_scan_task_notifies_nobody_twice(alpha):
    _silent(alpha, hours=80)
    first = sla_scan_task.apply().get()
    connection.set_tenant(alpha.tenant)  # the task's postrun hook may leave the connection elsewhere
    notes = Notification.objects.count()
    second = sla_scan_task.apply().get()
    connection.set_tenant(alpha.tenant)
    assert "alerts=0 " in second and "alerts=0 " not in first
    assert Notification.objects.count() == notes


def test_closed_opportunities_raise_nothing(alpha):
    opp = _silent(alpha, hours=200)
    credit_give(opp, 25)
    opportunity_stage_change(actor=alpha.rep, opportunity=opp, to_stage=Stage.objects.get(code="won"), via="web", now=NOW)
    result = sla_scan(now=NOW + dt.timedelta(days=1))
    assert result.alerts == 0 and not SlaAlert.objects.filter(opportunity=opp).exists()


def test_a_high_value_lead_untouched_for_24_hours_alerts_its_owner_and_manager_once(alpha):
    from leads.models import Lead, LeadStatus
    from leads.tests.factories import lead_submit

    lead = lead_submit(company="华山医院", budget_grade="A").lead
    assigned = NOW - dt.timedelta(hours=25)
    Lead.objects.filter(pk=lead.pk).update(owner=alpha.rep, status=LeadStatus.ASSIGNED, assigned_at=assigned,
                                           first_touch_at=None)
    fresh = lead_submit(company="长海医院", budget_grade="A").lead
    Lead.objects.filter(pk=fresh.pk).update(owner=alpha.rep, status=LeadStatus.ASSIGNED,
                                            assigned_at=NOW - dt.timedelta(hours=23), first_touch_at=None)
    sla_scan(now=NOW)
    alerts = SlaAlert.objects.filter(kind=AlertKind.FIRST_TOUCH)
    assert list(alerts.values_list("object_id", flat=True)) == [lead.pk]
    notes = Notification.objects.filter(event_key=f"sla:first_touch:{lead.pk}:{assigned.isoformat()}")
    assert {n.recipient_id for n in notes} == {alpha.rep.pk, alpha.manager.pk}
    assert "华山医院" in notes.first().title_text
    assert sla_scan(now=NOW).alerts == 0
