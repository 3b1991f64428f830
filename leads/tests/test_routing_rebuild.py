"""Intake routes in constant work and stores only what is specific to the lead; the routing story
rebuilds every candidate from the roster version, and the rebuilt list is the full evaluation's."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import AuditEntry
from leads.models import Lead, LeadStatus, RepLoad, RoutingRule, Strategy
from leads.selectors import decision_candidates
from leads.services import routing_plan
from leads.services.routing import rules_forget
from salesflow.i18n import message
from salesflow.org.models import Availability, Member
from salesflow.org.selectors import rep_roster_forget
from salesflow.org.tests.factories import MemberFactory, TeamFactory, UserFactory

from .factories import lead_submit

LEAD = {"budget_grade": "B", "region": "上海", "product_line": "影像设备", "industry": "医疗器械"}


def _pool(strategy, *, size=7, **rule_fields):
    """A rule of `strategy` over a team of `size` reps: one away, one full, the others loaded unevenly."""
    team = TeamFactory(name=f"重建组{strategy}")
    reps = [MemberFactory(user=UserFactory(), team=team, capacity=5) for _ in range(size)]
    Member.objects.filter(pk=reps[0].pk).update(availability=Availability.ON_LEAVE, away_from=None, away_until=None)
    Member.objects.filter(pk=reps[1].pk).update(capacity=0)
    for rep, load in zip(reps[2:], [3, 2, 0, 1, 4]):
        RepLoad.objects.update_or_create(user_id=rep.user_id, defaults={"open_count": load})
    RoutingRule.objects.update(enabled=False)
    rule = RoutingRule.objects.create(name=f"重建 {strategy}", position=1, strategy=strategy,
                                      match_lead_product_line=True, **rule_fields)
    rule.pool_teams.add(team)
    rules_forget()
    return rule, reps


def _expected(plan):
    """The full evaluation's candidates once its first choice took the slot."""
    chosen = plan.first.user_id
    rows = []
    for c in plan.candidates:
        if c["verdict"] == "eligible":
            c = {**c, "verdict": "chosen", "why": plan.reason} if c["user_id"] == chosen else {
                **c, "verdict": "not chosen", "why": message("routing.why.other_first")}
        rows.append((c["user_id"], c["verdict"], c["why"]))
    return rows


def _rebuilt(decision):
    return [(c["user_id"], c["verdict"], c["why"]) for c in decision_candidates(decision)]


def _star(rep):
    """A 100 % 7-day close rate for `rep`."""
    lead = lead_submit(budget_grade="C").lead
    Lead.objects.filter(pk=lead.pk).update(owner=rep.user, status=LeadStatus.CONVERTED, assigned_at=timezone.now())


@pytest.mark.parametrize("strategy", [Strategy.ROUND_ROBIN, Strategy.LEAST_LOADED, Strategy.TOP_PERFORMER])
def test_the_rebuilt_candidate_list_equals_a_full_evaluation_for_each_strategy(alpha, strategy):
    rule, reps = _pool(strategy)
    if strategy == Strategy.ROUND_ROBIN:
        RoutingRule.objects.filter(pk=rule.pk).update(rr_last_user_id=reps[4].user_id)
    if strategy == Strategy.TOP_PERFORMER:
        _star(reps[5])
    plan = routing_plan(Lead(contact_name="王", channel="api", **LEAD), rules=[RoutingRule.objects.get(pk=rule.pk)])
    expected = _expected(plan)

    decision = lead_submit(**LEAD).decision

    assert decision.assignee_id == plan.first.user_id == {
        Strategy.ROUND_ROBIN: reps[5], Strategy.LEAST_LOADED: reps[4], Strategy.TOP_PERFORMER: reps[5]}[strategy].user_id
    assert _rebuilt(decision) == expected
    # Stored: the chosen rep and those skipped for a reason, not the reps another came before.
    assert {c["verdict"] for c in decision.candidates} == {"chosen", "skipped"}
    assert len(decision.candidates) == 3


@pytest.mark.parametrize("strategy", [Strategy.ROUND_ROBIN, Strategy.LEAST_LOADED, Strategy.TOP_PERFORMER])
def test_the_rebuilt_list_stays_as_decided_after_a_reps_availability_or_skills_change(alpha, strategy):
    rule, reps = _pool(strategy)
    plan = routing_plan(Lead(contact_name="王", channel="api", **LEAD), rules=[RoutingRule.objects.get(pk=rule.pk)])
    decision = lead_submit(**LEAD).decision

    Member.objects.filter(pk=reps[0].pk).update(availability=Availability.AVAILABLE)
    Member.objects.filter(pk=reps[6].pk).update(product_lines=["超声"])
    rep_roster_forget()
    later = lead_submit(**LEAD).decision

    assert _rebuilt(decision) == _expected(plan)
    assert later.roster_version_id != decision.roster_version_id
    assert reps[6].user_id not in [c["user_id"] for c in decision_candidates(later)]
    assert reps[0].user_id in [c["user_id"] for c in decision_candidates(later)]


@pytest.mark.parametrize("strategy", [Strategy.ROUND_ROBIN, Strategy.LEAST_LOADED, Strategy.TOP_PERFORMER])
def test_after_a_reps_availability_and_skills_change_the_next_decision_rebuilds_as_a_full_evaluation_then(alpha, strategy):
    rule, reps = _pool(strategy)
    if strategy == Strategy.TOP_PERFORMER:
        _star(reps[3])
    lead_submit(**LEAD)  # the pool's seats written for the first roster version
    Member.objects.filter(pk=reps[0].pk).update(availability=Availability.AVAILABLE)  # back from leave
    Member.objects.filter(pk=reps[6].pk).update(product_lines=["超声"])  # no longer sells the product line
    rep_roster_forget()
    plan = routing_plan(Lead(contact_name="王", channel="api", **LEAD), rules=[RoutingRule.objects.get(pk=rule.pk)])

    later = lead_submit(**LEAD).decision

    assert later.assignee_id == plan.first.user_id
    assert _rebuilt(later) == _expected(plan)
    assert reps[0].user_id in [row[0] for row in _rebuilt(later)]
    assert reps[6].user_id not in [row[0] for row in _rebuilt(later)]


def test_nobody_free_names_every_rep_and_rebuilds_the_same(alpha):
    rule, reps = _pool(Strategy.LEAST_LOADED, size=3)
    Member.objects.filter(pk=reps[2].pk).update(capacity=3)
    plan = routing_plan(Lead(contact_name="王", channel="api", **LEAD), rules=[RoutingRule.objects.get(pk=rule.pk)])
    result = lead_submit(**LEAD)
    assert result.lead.status == LeadStatus.POOL
    assert result.lead.routing_reason_message["key"] == plan.reason["key"] == "routing.nobody_free"
    assert _rebuilt(result.decision) == [(c["user_id"], c["verdict"], c["why"]) for c in plan.candidates]


def _intake_queries(count):
    Member.objects.filter(role="rep").update(capacity=0)
    team = TeamFactory()
    MemberFactory.create_batch(count, team=team, capacity=1000)
    RoutingRule.objects.update(enabled=False)
    RoutingRule.objects.create(name="one pool", position=1, strategy=Strategy.ROUND_ROBIN).pool_teams.add(team)
    rules_forget()
    rep_roster_forget()
    lead_submit(**LEAD)  # roster version stored, pool indexed
    with CaptureQueriesContext(connection) as queries:
        decision = lead_submit(**LEAD).decision
    return len(queries), decision


def test_intake_issues_the_same_statements_for_8_reps_as_for_120(alpha):
    few, _ = _intake_queries(8)
    many, decision = _intake_queries(112)
    assert many == few
    assert len(decision.candidates) == 1  # the chosen rep: the 111 others are rebuilt
    assert len(decision_candidates(decision)) == 112


def test_the_audit_entry_carries_the_roster_version_and_basis(alpha):
    rule, reps = _pool(Strategy.ROUND_ROBIN)
    result = lead_submit(**LEAD)
    routing = AuditEntry.objects.get(target_type="leads.lead", target_id=str(result.lead.pk)).payload["routing"]
    assert routing["roster_version"] == result.decision.roster_version_id
    assert routing["pool_basis"]["teams"] == [reps[0].team_id] and routing["pool_basis"]["product_line"] == "影像设备"
    assert sorted(c["user_id"] for c in routing["candidates"]) == sorted([reps[0].user_id, reps[1].user_id, result.lead.owner_id])


def test_the_story_page_shows_every_candidate_rebuilt_and_from_which_version(alpha, client_for):
    rule, reps = _pool(Strategy.ROUND_ROBIN, size=40)
    result = lead_submit(**LEAD)
    page = client_for(alpha, alpha.admin).get(f"/leads/{result.lead.pk}/").content.decode()
    assert result.decision.roster_version_id[:10] in page
    for rep in reps:
        assert rep.full_name in page
