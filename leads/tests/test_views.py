from django.conf import settings

from audit.models import AuditEntry
from leads.models import ImportJob, Lead, LeadStatus, RoutingDecision
from leads.services import lead_touch_record

from .factories import lead_submit

B_LEAD = {"budget_grade": "B", "region": "上海", "product_line": "影像设备"}


def test_a_rep_sees_their_own_new_leads_first_with_accept_and_touch(alpha, client_for, django_assert_max_num_queries):
    mine = lead_submit(company="我的医院", **B_LEAD).lead
    theirs = lead_submit(company="别人的医院").lead
    Lead.objects.filter(pk=theirs.pk).update(owner=alpha.other_rep, status=LeadStatus.ASSIGNED)
    client = client_for(alpha, alpha.rep)
    with django_assert_max_num_queries(12):
        html = client.get("/leads/").content.decode()
    assert "我的医院" in html and "别人的医院" not in html
    assert f'action="/leads/{mine.pk}/accept/"' in html and f'action="/leads/{mine.pk}/touch/"' in html


def test_accept_then_one_tap_touch_stops_the_clock(alpha, client_for):
    lead = lead_submit(**B_LEAD).lead
    client = client_for(alpha, alpha.rep)
    assert client.post(f"/leads/{lead.pk}/accept/", {"next": "/leads/"})["Location"] == "/leads/"
    assert client.post(f"/leads/{lead.pk}/touch/", {"kind": "call", "next": "/leads/"}).status_code == 302
    lead.refresh_from_db()
    assert lead.status == LeadStatus.CONTACTED and lead.accepted_at and lead.first_touch_at
    assert AuditEntry.objects.filter(verb="lead.first_touch", target_id=str(lead.pk)).exists()


def test_a_rep_cannot_open_or_touch_another_reps_lead(alpha, client_for):
    lead = lead_submit(**B_LEAD).lead
    client = client_for(alpha, alpha.other_rep)
    assert client.get(f"/leads/{lead.pk}/").status_code == 404
    assert client.post(f"/leads/{lead.pk}/touch/", {"kind": "call"}).status_code == 404
    lead.refresh_from_db()
    assert lead.first_touch_at is None


def test_a_manager_sees_the_team_and_the_routing_story(alpha, client_for):
    lead = lead_submit(company="故事医院", **B_LEAD).lead
    client = client_for(alpha, alpha.manager)
    assert "故事医院" in client.get("/leads/").content.decode()
    html = client.get(f"/leads/{lead.pk}/").content.decode()
    assert "轮到下一位" in html and "选中" in html and "next in turn" not in html  # the routing story in the reader's language
    client.cookies["django_language"] = "en"
    english = client.get(f"/leads/{lead.pk}/").content.decode()
    assert "round robin in" in english and "chosen" in english and "轮到下一位" not in english
    assert client_for(alpha, alpha.other_manager).get(f"/leads/{lead.pk}/").status_code == 404


def test_the_manager_list_filters_and_keeps_a_query_budget(alpha, client_for, django_assert_max_num_queries):
    for i in range(5):
        lead_submit(company=f"筛选{i}", channel="web_form", **B_LEAD)
    lead_submit(company="广告来的", channel="ad_platform", **B_LEAD)
    client = client_for(alpha, alpha.admin)
    with django_assert_max_num_queries(14):
        html = client.get("/leads/", {"channel": "ad_platform"}).content.decode()
    assert "广告来的" in html and "筛选1" not in html
    partial = client.get("/leads/", {"channel": "web_form"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="lead-table")
    assert partial.content.decode().startswith('<div id="lead-table"') and partial["Vary"].count("HX-Request")


def test_an_outsider_tenants_user_cannot_see_this_tenants_leads(alpha, beta, client_for):
    lead = lead_submit(**B_LEAD).lead
    outsider = client_for(beta, beta.admin)
    outsider.defaults["HTTP_HOST"] = alpha.host
    response = outsider.get(f"/leads/{lead.pk}/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_reps_cannot_see_the_routing_log_or_speed_figures(alpha, client_for):
    client = client_for(alpha, alpha.rep)
    assert client.get("/leads/routing-log/").status_code == 404
    assert client.get("/leads/speed/").status_code == 404
    assert client.post("/leads/1/reassign/", {"new_owner": alpha.rep.pk, "reason": "x"}).status_code == 404


def test_the_routing_log_filters_by_outcome(alpha, client_for, django_assert_max_num_queries):
    lead_submit(company="进公海", budget_grade="C")
    lead_submit(company="分给人", **B_LEAD)
    client = client_for(alpha, alpha.admin)
    with django_assert_max_num_queries(14):
        html = client.get("/leads/routing-log/", {"outcome": "pool"}).content.decode()
    assert "进公海" in html and "分给人" not in html


def test_speed_to_lead_shows_median_and_shares(alpha, client_for):
    lead = lead_submit(**B_LEAD).lead
    lead_touch_record(actor=alpha.rep, lead=lead, kind="call")
    html = client_for(alpha, alpha.manager).get("/leads/speed/").content.decode()
    assert 'id="speed-assigned">1<' in html and "100 %" in html


def test_a_manager_reassigns_with_a_reason(alpha, client_for):
    from salesflow.org.models import Member
    from salesflow.org.tests.factories import MemberFactory, UserFactory
    colleague = MemberFactory(user=UserFactory(), team=Member.objects.get(user=alpha.rep).team).user
    lead = lead_submit(**B_LEAD).lead
    response = client_for(alpha, alpha.manager).post(f"/leads/{lead.pk}/reassign/", {"new_owner": colleague.pk, "reason": "客户要求"})
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.owner == colleague
    assert RoutingDecision.objects.filter(lead=lead, outcome="reassigned").exists()
    assert AuditEntry.objects.get(verb="lead.reassigned", target_id=str(lead.pk)).reason == "客户要求"
    other = client_for(alpha, alpha.other_manager).post(f"/leads/{lead.pk}/reassign/", {"new_owner": alpha.other_rep.pk, "reason": "x"})
    assert other.status_code == 404


def test_a_rep_claims_from_the_pool_page_and_a_late_claimer_is_told(alpha, client_for):
    lead = lead_submit(company="公海医院", budget_grade="C").lead
    rep = client_for(alpha, alpha.rep)
    assert "公海医院" in rep.get("/leads/pool/").content.decode()
    assert rep.post(f"/leads/{lead.pk}/claim/")["Location"] == f"/leads/{lead.pk}/"
    late_client = client_for(alpha, alpha.other_rep)
    late_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    late = late_client.post(f"/leads/{lead.pk}/claim/", follow=True)
    assert late.status_code == 200 and "someone else claimed it first" in late.content.decode()
    lead.refresh_from_db()
    assert lead.owner == alpha.rep


def test_manual_entry_creates_and_routes(alpha, client_for):
    response = client_for(alpha, alpha.manager).post("/leads/new/", {"contact_name": "赵先生", "phone": "021-6234 5678",
                                                                     "channel": "manual", "budget_grade": "C"})
    lead = Lead.objects.get(contact_name="赵先生")
    assert response.status_code == 302 and lead.phone_normalized == "+862162345678" and lead.channel == "manual"
    bad = client_for(alpha, alpha.manager).post("/leads/new/", {"contact_name": "x", "phone": "12", "channel": "manual"})
    assert bad.status_code == 400


def test_the_public_web_form_takes_a_lead_and_thanks(alpha, client_for):
    client = client_for(alpha)
    page = client.get("/form/")
    # Framing is for the sites the tenant lists (tests/test_security_headers.py); none are listed here.
    assert page.status_code == 200 and page["X-Frame-Options"] == "DENY"
    response = client.post("/form/", {"contact_name": "孙女士", "email": "sun@example.cn", "company": "网单"})
    assert response["Location"] == "/form/thanks/"
    assert Lead.objects.get(contact_name="孙女士").channel == "web_form"


def test_the_web_form_honeypot_stores_nothing(alpha, client_for):
    response = client_for(alpha).post("/form/", {"contact_name": "bot", "email": "bot@example.cn", "website": "http://spam"})
    assert response["Location"] == "/form/thanks/" and not Lead.objects.filter(contact_name="bot").exists()


def test_a_csv_import_keeps_good_rows_and_reports_bad_ones_by_line(alpha, client_for, django_capture_on_commit_callbacks):
    from django.core.files.base import ContentFile
    from leads.services.imports import import_job_run, import_job_start, import_preview
    text = "公司,联系人,电话,预算等级,行业匹配度\n甲医院,甲,13500000001,B,80\n乙医院,,13500000002,B,50\n丙医院,丙,13500000003,Z,50\n丁医院,丁,135-0000-0001,C,10\n"
    job = ImportJob.objects.create(file=ContentFile(text.encode(), name="leads.csv"), created_by=alpha.admin)
    header, sample, guess = import_preview(job)
    assert guess == {"0": "company", "1": "contact_name", "2": "phone", "3": "budget_grade", "4": "industry_match"}
    with django_capture_on_commit_callbacks() as queued:
        import_job_start(actor=alpha.admin, job=job, mapping=guess)
    assert len(queued) == 1
    job = import_job_run(job_id=job.pk)
    assert (job.status, job.created_leads, job.duplicate_rows) == ("done", 1, 1)
    assert [e["line"] for e in job.errors] == [3, 4]
    assert import_job_run(job_id=job.pk).created_leads == 1  # a second run imports nothing
    report = client_for(alpha, alpha.admin).get(f"/admin/leads/importjob/{job.pk}/errors.csv")
    assert report.status_code == 200 and "联系人姓名：这个字段是必填项。" in report.content.decode()
