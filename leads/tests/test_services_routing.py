import datetime as dt

from django.utils import timezone, translation

from audit.models import AuditEntry
from leads.models import LeadStatus, RoutingDecision, RoutingRule, Strategy
from leads.services import routing_plan
from salesflow.i18n import render
from salesflow.org.models import Availability, Member
from salesflow.org.tests.factories import MemberFactory, TeamFactory, UserFactory

from .factories import lead_submit


def _reps(team, count, **profile):
    return [MemberFactory(user=UserFactory(), team=team, **profile) for _ in range(count)]


def test_b_grade_leads_take_turns_within_region_and_product_line(alpha):
    team = Member.objects.get(user=alpha.rep).team
    extra = _reps(team, 2)
    owners = [lead_submit(budget_grade="B", region=team.region.name, product_line="影像设备").lead.owner_id for _ in range(6)]
    ring = sorted([alpha.rep.pk] + [m.user_id for m in extra])
    assert owners == ring + ring


def test_an_unavailable_or_full_rep_is_skipped_and_the_reason_logged(alpha):
    team = Member.objects.get(user=alpha.rep).team
    away, full = _reps(team, 2)
    Member.objects.filter(pk=away.pk).update(availability=Availability.ON_LEAVE, away_from=None, away_until=None)
    Member.objects.filter(pk=full.pk).update(capacity=0)
    result = lead_submit(budget_grade="B", region=team.region.name, product_line="影像设备")
    assert result.lead.owner == alpha.rep
    verdicts = {c["user_id"]: (c["verdict"], c["why"]) for c in result.decision.candidates}
    assert verdicts[away.user_id][0] == "skipped" and verdicts[away.user_id][1]["key"] == "routing.why.away"
    assert verdicts[away.user_id][1]["params"]["availability"]["v"] == "on_leave"
    assert verdicts[full.user_id] == ("skipped", {"key": "routing.why.capacity", "params": {"open": 0, "capacity": 0}})
    with translation.override("en"):
        assert render(verdicts[full.user_id][1]) == "at capacity (0/0)"
    assert verdicts[alpha.rep.pk][0] == "chosen"


def test_when_nobody_is_eligible_the_lead_goes_to_the_pool_with_the_reason(alpha):
    Member.objects.filter(user=alpha.rep).update(capacity=0)
    result = lead_submit(budget_grade="B", region="上海", product_line="影像设备")
    assert result.lead.status == LeadStatus.POOL and result.lead.owner is None
    assert result.lead.routing_reason_message["key"] == "routing.nobody_free"
    assert result.decision.outcome == RoutingDecision.Outcome.POOL


def test_c_grade_and_unmatched_leads_go_to_the_public_pool(alpha):
    assert lead_submit(budget_grade="C").lead.status == LeadStatus.POOL
    unmatched = lead_submit(budget_grade="")
    assert unmatched.lead.status == LeadStatus.POOL and unmatched.lead.routing_reason_message == {"key": "routing.no_rule", "params": {}}


def test_a_grade_falls_back_to_the_best_rate_when_nobody_is_above_85_percent(alpha):
    result = lead_submit(budget_grade="A", industry="医疗器械")
    assert result.lead.owner_id is not None
    with translation.override("en"):
        assert "nobody above 85%" in result.lead.routing_reason_text


def test_a_grade_prefers_a_rep_whose_7_day_close_rate_is_above_85_percent(alpha):
    star = MemberFactory(user=UserFactory(), team=TeamFactory(name="C组"))
    won = lead_submit(budget_grade="C")  # in the pool; give it to the star as converted
    from leads.models import Lead
    Lead.objects.filter(pk=won.lead.pk).update(owner=star.user, status=LeadStatus.CONVERTED, assigned_at=timezone.now())
    result = lead_submit(budget_grade="A")
    assert result.lead.owner == star.user
    with translation.override("en"):
        assert "close rate 100%" in result.lead.routing_reason_text


def test_tertiary_hospitals_go_to_experienced_reps_only(alpha):
    senior = MemberFactory(user=UserFactory(), team=TeamFactory(name="大客户组"), years_experience=8)
    result = lead_submit(tier="tertiary_hospital", industry="医疗器械", budget_grade="A")
    assert result.lead.owner == senior.user
    assert result.decision.rule_name.startswith("三甲医院")


def test_township_leads_go_to_new_hires(alpha):
    fresh = MemberFactory(user=UserFactory(), team=TeamFactory(name="普惠组"), hire_date=timezone.localdate() - dt.timedelta(days=30))
    result = lead_submit(tier="township_clinic", budget_grade="B")
    assert result.lead.owner == fresh.user


def test_routing_is_audited_with_its_basis(alpha):
    result = lead_submit(budget_grade="B", region="上海", product_line="影像设备")
    entry = AuditEntry.objects.get(target_type="leads.lead", target_id=str(result.lead.pk))  # one entry: received and routed
    assert entry.verb == "lead.created"
    routing = entry.payload["routing"]
    assert routing["assignee_id"] == alpha.rep.pk and routing["decision"] == result.decision.pk
    assert [c["verdict"] for c in routing["candidates"]] == ["chosen"]


def test_a_dry_run_writes_nothing_and_explains_each_lead(alpha):
    lead = lead_submit(budget_grade="C").lead
    draft = RoutingRule.objects.create(name="draft: everything to team A", position=1, enabled=False,
                                       strategy=Strategy.LEAST_LOADED)
    draft.pool_teams.add(Member.objects.get(user=alpha.rep).team)
    plan = routing_plan(lead, rules=[draft])
    assert plan.first.user_id == alpha.rep.pk and plan.rule == draft
    lead.refresh_from_db()
    assert lead.status == LeadStatus.POOL


def test_the_admin_dry_run_page_lists_the_last_leads(alpha, client_for):
    lead_submit(budget_grade="B", region="上海", product_line="影像设备", company="试运行医院")
    response = client_for(alpha, alpha.admin).get("/admin/leads/routingrule/dry-run/?n=5")
    assert response.status_code == 200 and "试运行医院" in response.content.decode()
    assert client_for(alpha, alpha.rep).get("/admin/leads/routingrule/dry-run/").status_code == 302


def test_a_rep_who_marks_themselves_away_gets_no_more_leads_from_this_process(alpha, django_capture_on_commit_callbacks):
    from salesflow.org.services import member_availability_set

    team = Member.objects.get(user=alpha.rep).team
    (other,) = _reps(team, 1)
    lead_submit(budget_grade="B", region=team.region.name, product_line="影像设备")  # the roster is now remembered
    with django_capture_on_commit_callbacks(execute=True):
        member_availability_set(actor=alpha.rep, member=Member.objects.get(user=alpha.rep), availability=Availability.ON_LEAVE)
    owners = {lead_submit(budget_grade="B", region=team.region.name, product_line="影像设备").lead.owner_id for _ in range(3)}
    assert owners == {other.user_id}
