"""What a Chinese sales team reads: amounts, the board's bookmarkable filters, the manager's today."""
import datetime as dt
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone

from followups.models import FollowUp, Light, Opportunity
from leads.models import Lead, LeadStatus
from leads.tests.factories import lead_submit

from .factories import opportunity_make


def test_the_board_shows_amounts_in_wan_with_the_full_amount_in_the_tooltip(alpha, client_for):
    opportunity_make(owner=alpha.rep, amount=Decimal("12005000"), name="大单")
    html = client_for(alpha, alpha.manager).get(reverse("followups:board")).content.decode()
    assert '<span class="amount" title="12,005,000">1,200.5万</span>' in html


def test_an_english_reader_gets_the_full_amount_with_separators(alpha, client_for):
    opportunity_make(owner=alpha.rep, amount=Decimal("12000000"))
    client = client_for(alpha, alpha.manager)
    client.cookies["django_language"] = "en"
    html = client.get(reverse("followups:board")).content.decode()
    assert ">12,000,000</span>" in html and "万" not in html


def test_the_opportunity_page_shows_the_full_amount(alpha, client_for):
    opp = opportunity_make(owner=alpha.rep, amount=Decimal("12000000"))
    html = client_for(alpha, alpha.rep).get(reverse("followups:opportunity", args=[opp.pk])).content.decode()
    assert "¥12,000,000" in html and "12000000" not in html


def test_board_filters_live_in_the_url_and_a_reload_keeps_them(alpha, client_for):
    red = opportunity_make(owner=alpha.rep, name="红灯项目")
    Opportunity.objects.filter(pk=red.pk).update(light=Light.RED)
    opportunity_make(owner=alpha.rep, name="绿灯项目")
    client = client_for(alpha, alpha.manager)
    page = client.get(reverse("followups:board")).content.decode()
    assert 'hx-push-url="true"' in page and 'hx-target="#board-rows"' in page and "partial=rows" not in page
    reloaded = client.get(reverse("followups:board"), {"light": Light.RED}).content.decode()
    assert "<html" in reloaded and "红灯项目" in reloaded and "绿灯项目" not in reloaded
    assert f'<option value="{Light.RED}" selected>' in reloaded


def test_a_history_restore_gets_the_whole_page(alpha, client_for):
    response = client_for(alpha, alpha.manager).get(
        reverse("followups:board"), {"light": Light.RED}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="board-rows",
        HTTP_HX_HISTORY_RESTORE_REQUEST="true",
    )
    assert "<html" in response.content.decode()


def test_the_managers_today_shows_the_teams_reds_stagnations_and_unaccepted_leads(alpha, client_for):
    for number in range(3):
        red = opportunity_make(owner=alpha.rep, name=f"红{number}")
        Opportunity.objects.filter(pk=red.pk).update(light=Light.RED, next_due_at=timezone.now() - dt.timedelta(days=5))
    stuck = opportunity_make(owner=alpha.rep, name="停滞项目")
    Opportunity.objects.filter(pk=stuck.pk).update(is_stagnant=True, stage_entered_at=timezone.now() - dt.timedelta(days=9))
    waiting = lead_submit(company="待接收医院").lead
    Lead.objects.filter(pk=waiting.pk).update(owner=alpha.rep, status=LeadStatus.ASSIGNED, assigned_at=timezone.now() - dt.timedelta(hours=3))
    theirs = opportunity_make(owner=alpha.other_rep, name="别组红灯")
    Opportunity.objects.filter(pk=theirs.pk).update(light=Light.RED)

    html = client_for(alpha, alpha.manager).get(reverse("followups:today")).content.decode()

    team = html[html.index('id="team-attention"'):html.index("</section>", html.index('id="team-attention"'))]
    assert '<span class="light light-3">3</span>' in team
    assert stuck.account.name in team and "待接收医院" in team and "3 小时" in team
    assert theirs.account.name not in team
    director = client_for(alpha, alpha.director).get(reverse("followups:today")).content.decode()
    assert 'id="team-attention"' in director and "待接收医院" in director


def test_a_reps_today_has_no_team_section(alpha, client_for):
    html = client_for(alpha, alpha.rep).get(reverse("followups:today")).content.decode()
    assert 'id="team-attention"' not in html


def test_the_managers_today_keeps_to_a_query_budget(alpha, client_for, django_assert_max_num_queries):
    for number in range(10):
        red = opportunity_make(owner=alpha.rep, name=f"红{number}")
        Opportunity.objects.filter(pk=red.pk).update(light=Light.RED, is_stagnant=True)
    client = client_for(alpha, alpha.manager)
    client.get(reverse("followups:today"))
    with django_assert_max_num_queries(16):
        client.get(reverse("followups:today"))


def test_a_summary_over_the_limit_is_refused_not_cut(alpha, client_for):
    opp = opportunity_make(owner=alpha.rep)
    client = client_for(alpha, alpha.rep)
    page = client.get(reverse("followups:opportunity", args=[opp.pk])).content.decode()
    assert 'maxlength="4000"' not in page  # the browser would cut a paste silently
    response = client.post(reverse("followups:followup-create", args=[opp.pk]), {"kind": "call", "summary": "长" * 20000})
    html = response.content.decode()
    assert response.status_code == 400
    assert "20,000" in html and "4,000" in html
    assert html.count("20,000") == 1
    assert not FollowUp.objects.filter(opportunity=opp).exists()


def test_the_service_refuses_an_overlong_summary_too(alpha):
    import pytest
    from django.core.exceptions import ValidationError

    from followups.services import followup_log

    opp = opportunity_make(owner=alpha.rep)
    with pytest.raises(ValidationError) as refused:
        followup_log(actor=alpha.rep, opportunity=opp, kind="call", summary="x" * 4001)
    assert "summary" in refused.value.message_dict


def test_durations_read_in_minutes_on_speed_to_lead(alpha, client_for):
    from leads.services import lead_touch_record

    lead = lead_submit(budget_grade="B", region="上海", product_line="影像设备").lead
    Lead.objects.filter(pk=lead.pk).update(owner=alpha.rep, assigned_at=timezone.now() - dt.timedelta(minutes=47, seconds=30))
    lead.refresh_from_db()
    lead_touch_record(actor=alpha.rep, lead=lead, kind="call")
    html = client_for(alpha, alpha.manager).get("/leads/speed/").content.decode()
    assert "47 分钟" in html and " s (" not in html
