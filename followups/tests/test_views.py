"""Every screen: the owner/manager sees it, an outsider tenant and the wrong role do not."""
import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from followups.models import FollowUp, Light, Opportunity
from followups.services import followup_log

from .factories import opportunity_make


@pytest.fixture
def opp(alpha):
    return opportunity_make(owner=alpha.rep, created_at=timezone.now() - dt.timedelta(days=3),
                            next_due_at=timezone.now() - dt.timedelta(hours=2))


def _later_today() -> dt.datetime:
    """Due later today in the tenant's day: 30 minutes ahead, or just before midnight when that comes first
    (the test must not depend on the hour it runs at)."""
    from salesflow.org.selectors import tenant_settings_get

    now = timezone.now()
    tz = tenant_settings_get().tzinfo
    midnight = dt.datetime.combine(now.astimezone(tz).date() + dt.timedelta(days=1), dt.time(), tz)
    return min(now + dt.timedelta(minutes=30), midnight - dt.timedelta(seconds=1))


def test_the_rep_sees_overdue_work_first_on_today(alpha, client_for, opp):
    later = opportunity_make(owner=alpha.rep, next_due_at=_later_today(), name="今天到期")
    response = client_for(alpha, alpha.rep).get(reverse("followups:today"))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.index(opp.account.name) < html.index(later.account.name)
    assert 'data-bucket="overdue"' in html


def test_today_shows_only_ones_own_work(alpha, client_for, opp):
    response = client_for(alpha, alpha.other_rep).get(reverse("followups:today"))
    assert opp.account.name not in response.content.decode()


def test_the_opportunity_page_is_for_the_owner_and_their_managers_only(alpha, beta, client_for, opp):
    url = reverse("followups:opportunity", args=[opp.pk])
    assert client_for(alpha, alpha.rep).get(url).status_code == 200
    assert client_for(alpha, alpha.manager).get(url).status_code == 200
    assert client_for(alpha, alpha.director).get(url).status_code == 200
    assert client_for(alpha, alpha.other_rep).get(url).status_code == 404
    assert client_for(alpha, alpha.other_manager).get(url).status_code == 404
    assert client_for(beta, beta.admin).get(url).status_code == 404


def test_the_visit_post_logs_a_visit_for_the_owner(alpha, client_for, opp):
    url = reverse("followups:visit", args=[opp.pk])
    response = client_for(alpha, alpha.rep).post(
        url, {"outcome": "quote_sent", "location_status": "given", "latitude": "31.2304", "longitude": "121.4737", "accuracy": "20"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200 and response["X-Followup-Id"]
    visit = FollowUp.objects.get(pk=response["X-Followup-Id"])
    assert (visit.kind, visit.template.code, visit.location_status) == ("visit", "quote_sent", "given")


def test_the_visit_post_refuses_others_and_bad_outcomes(alpha, beta, client_for, opp):
    url = reverse("followups:visit", args=[opp.pk])
    data = {"outcome": "quote_sent", "location_status": "refused"}
    assert client_for(alpha, alpha.manager).post(url, data).status_code == 403  # wrong role: not the owner
    assert client_for(alpha, alpha.other_rep).post(url, data).status_code == 404
    assert client_for(beta, beta.admin).post(url, data).status_code == 404
    assert client_for(alpha, alpha.rep).post(url, {"outcome": "poc_done"}).status_code == 400
    assert not FollowUp.objects.filter(opportunity=opp).exists()


def test_a_template_tap_and_the_quick_form_log_follow_ups(alpha, client_for, opp):
    client = client_for(alpha, alpha.rep)
    assert client.post(reverse("followups:template-log", args=[opp.pk, "tender_docs"])).status_code == 302
    response = client.post(reverse("followups:followup-create", args=[opp.pk]), {
        "kind": "meeting", "summary": "技术交流", "next_step": "发报价", "next_step_due_at": "2030-01-02T10:00",
        "files": SimpleUploadedFile("纪要.pdf", b"%PDF minutes", content_type="application/pdf"),
    })
    assert response.status_code == 302
    assert list(FollowUp.objects.filter(opportunity=opp).order_by("id").values_list("action", flat=True)) == ["tender", "touch"]
    bad = client.post(reverse("followups:followup-create", args=[opp.pk]), {"kind": "call", "summary": ""})
    assert bad.status_code == 400


def test_the_stage_form_moves_for_owner_and_manager_only(alpha, beta, client_for, opp):
    from forecasting.tests.factories import credit_give

    credit_give(opp, 15)
    url = reverse("followups:stage", args=[opp.pk])
    from followups.models import Stage

    trial = Stage.objects.get(code="trial").pk
    assert client_for(alpha, alpha.other_rep).post(url, {"stage": trial}).status_code == 404
    assert client_for(beta, beta.admin).post(url, {"stage": trial}).status_code == 404
    assert client_for(alpha, alpha.manager).post(url, {"stage": trial}).status_code == 302
    opp.refresh_from_db()
    assert opp.stage.code == "trial"


def test_attachments_are_served_only_to_those_who_see_the_record(alpha, beta, client_for, opp):
    followup = followup_log(actor=alpha.rep, opportunity=opp, kind="meeting", summary="纪要", files=[
        SimpleUploadedFile("minutes.pdf", b"%PDF secret", content_type="application/pdf")])
    url = reverse("followups:attachment", args=[followup.attachments.get().pk])
    ok = client_for(alpha, alpha.manager).get(url)
    assert ok.status_code == 200 and b"".join(ok.streaming_content) == b"%PDF secret"
    assert "attachment" in ok["Content-Disposition"]
    assert client_for(alpha, alpha.other_rep).get(url).status_code == 404
    assert client_for(beta, beta.admin).get(url).status_code == 404
    assert client_for(alpha).get(url).status_code == 302  # anonymous: to sign-in


@pytest.mark.parametrize("name", ["followups:board", "followups:stagnant", "followups:compliance"])
def test_manager_pages_refuse_reps_and_outsiders(alpha, beta, client_for, name):
    url = reverse(name)
    assert client_for(alpha, alpha.manager).get(url).status_code == 200
    assert client_for(alpha, alpha.rep).get(url).status_code == 403
    assert client_for(beta, beta.rep if hasattr(beta, "rep") else beta.admin).get(url).status_code in (200, 403)
    assert client_for(alpha).get(url).status_code == 302


def test_the_board_shows_only_the_managers_people_and_filters_by_light(alpha, client_for, opp):
    mine_red = opportunity_make(owner=alpha.rep, name="红灯项目")
    Opportunity.objects.filter(pk=mine_red.pk).update(light=Light.RED)
    theirs = opportunity_make(owner=alpha.other_rep, name="别组项目")
    client = client_for(alpha, alpha.manager)
    html = client.get(reverse("followups:board")).content.decode()
    assert "红灯项目" in html and "别组项目" not in html
    partial = client.get(reverse("followups:board"), {"light": Light.RED}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="board-rows")
    body = partial.content.decode()
    assert partial.status_code == 200 and "<html" not in body
    assert "红灯项目" in body and opp.name not in body.split("红灯项目")[1]
    assert partial["Vary"].count("HX-Request") == 1
    assert theirs.name not in body


def test_an_outsiders_board_never_shows_alpha_rows(alpha, beta, client_for, opp):
    name = opp.account.name
    html = client_for(beta, beta.admin).get(reverse("followups:board")).content.decode()
    assert name not in html


def test_the_board_partial_keeps_to_a_fixed_query_budget(alpha, client_for, django_assert_max_num_queries):
    for number in range(30):
        opportunity_make(owner=alpha.rep, name=f"项目{number}")
    client = client_for(alpha, alpha.manager)
    url = reverse("followups:board")
    client.get(url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="board-rows")
    with django_assert_max_num_queries(12):
        response = client.get(url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="board-rows")
    assert response.content.decode().count("项目") >= 30


def test_the_account_drill_down_shows_last_interactions_to_those_in_scope(alpha, beta, client_for, opp):
    followup_log(actor=alpha.rep, opportunity=opp, kind="call", summary="最后一次通话")
    url = reverse("followups:account", args=[opp.account_id])
    assert "最后一次通话" in client_for(alpha, alpha.manager).get(url).content.decode()
    assert client_for(alpha, alpha.other_rep).get(url).status_code == 404
    assert client_for(alpha, alpha.other_manager).get(url).status_code == 404
    assert client_for(beta, beta.admin).get(url).status_code == 404


def test_stagnation_and_compliance_list_only_people_in_scope(alpha, client_for):
    stuck = opportunity_make(owner=alpha.rep, name="停滞项目")
    other = opportunity_make(owner=alpha.other_rep, name="别组停滞")
    Opportunity.objects.filter(pk__in=[stuck.pk, other.pk]).update(is_stagnant=True)
    client = client_for(alpha, alpha.manager)
    html = client.get(reverse("followups:stagnant")).content.decode()
    assert "停滞项目" in html and "别组停滞" not in html
    rows = client.get(reverse("followups:compliance"), HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in rows and 'id="compliance-rows"' in rows


def test_a_task_is_completed_only_by_its_assignee(alpha, client_for):
    from followups.models import Stage
    from followups.services import opportunity_stage_change

    opp = opportunity_make(owner=alpha.rep, credit=15)
    opportunity_stage_change(actor=alpha.rep, opportunity=opp, to_stage=Stage.objects.get(code="solution_demo"), via="web")
    task = opp.tasks.first()
    assert client_for(alpha, alpha.manager).post(reverse("followups:task-done", args=[task.pk])).status_code == 404
    assert client_for(alpha, alpha.rep).post(reverse("followups:task-done", args=[task.pk])).status_code == 302
    task.refresh_from_db()
    assert task.done_at is not None


def test_the_board_drills_down_into_a_customers_last_interactions_in_place(alpha, client_for, opp):
    followup_log(actor=alpha.rep, opportunity=opp, kind="visit", summary="院长办公室拜访")
    client = client_for(alpha, alpha.manager)
    board = client.get(reverse("followups:board")).content.decode()
    assert f'hx-get="/followups/accounts/{opp.account_id}/"' in board and 'id="drill"' in board
    partial = client.get(reverse("followups:account", args=[opp.account_id]), HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial and "院长办公室拜访" in partial and opp.account.name in partial


def test_today_and_the_opportunity_page_keep_to_a_fixed_query_budget(alpha, client_for, django_assert_max_num_queries):
    from followups.models import Stage
    from followups.services import opportunity_stage_change

    opps = [opportunity_make(owner=alpha.rep, name=f"项目{n}", next_due_at=timezone.now() - dt.timedelta(hours=n), credit=15)
            for n in range(25)]
    for opp in opps[:5]:
        opportunity_stage_change(actor=alpha.rep, opportunity=opp, to_stage=Stage.objects.get(code="solution_demo"), via="web")
        followup_log(actor=alpha.rep, opportunity=opp, kind="call", summary="通话")
    client = client_for(alpha, alpha.rep)
    client.get(reverse("followups:today"))
    with django_assert_max_num_queries(10):
        assert client.get(reverse("followups:today")).status_code == 200
    # 20 before the change history; it adds its rows and the names of the people and customers they mention (23);
    # the evidence panel adds its rows (reviews prefetched), the prepayments, the delivery plan and the next gate.
    with django_assert_max_num_queries(26):
        assert client.get(reverse("followups:opportunity", args=[opps[0].pk])).status_code == 200
