"""The routing state the pick reads: pool seats written once per roster version and basis, each
rep's load row with copies of their capacity and close rate, kept up to date on change."""
import datetime as dt
import re

import pytest

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from leads.models import Lead, LeadStatus, PoolSeat, RepLoad, RoutingRule, Strategy
from leads.services import routing_plan
from leads.services.pick import PICK_FUNCTION_SQL
from leads.services.roster import pool_index, roster_current, rule_basis
from leads.services.routing import rules_forget
from salesflow.org.models import Member
from salesflow.org.selectors import rep_roster_forget
from salesflow.org.tests.factories import MemberFactory, TeamFactory, UserFactory

from .factories import lead_submit

LEAD = {"budget_grade": "B", "region": "上海", "product_line": "影像设备", "industry": "医疗器械"}


def _one_pool(strategy=Strategy.ROUND_ROBIN, *, size=5, capacity=5):
    team = TeamFactory(name=f"状态组{strategy}")
    reps = [MemberFactory(user=UserFactory(), team=team, capacity=capacity) for _ in range(size)]
    RoutingRule.objects.update(enabled=False)
    rule = RoutingRule.objects.create(name=f"状态 {strategy}", position=1, strategy=strategy)
    rule.pool_teams.add(team)
    rules_forget()
    rep_roster_forget()
    return rule, reps


def _index(rule):
    lead = Lead(contact_name="王", channel="api", **LEAD)
    return pool_index(roster_current(), rule_basis(rule, lead, today=timezone.localdate(), new_hire_days=90))


def test_the_pool_is_written_once_as_seats_and_each_pick_reads_them_without_the_pool_in_the_statement(
        alpha, django_capture_on_commit_callbacks):
    rule, reps = _one_pool(size=6)
    with django_capture_on_commit_callbacks(execute=True):
        lead_submit(**LEAD)
    index = _index(rule)
    assert index.stored
    assert sorted(PoolSeat.objects.filter(pool=index.key).values_list("user_id", flat=True)) == sorted(r.user_id for r in reps)
    with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks(execute=True):
        result = lead_submit(**LEAD)
    assert result.lead.owner_id in {r.user_id for r in reps}
    statements = [q["sql"] for q in queries.captured_queries]
    assert not any(PoolSeat._meta.db_table in sql and "INSERT" in sql for sql in statements)  # written once
    # The pick is made by the intake's opening statement: it names the pool by its key, and the
    # function reads the seats (no list of the pool travels with the call or sits in the function).
    claim = next(sql for sql in statements if "leads_intake_claim" in sql)
    assert re.search(rf"'{Strategy.ROUND_ROBIN.value}'(::text)?,\s+-?\d+(::bigint)?, {rule.pk}(::bigint)?\)$", claim), claim
    assert "unnest" not in PICK_FUNCTION_SQL and PoolSeat._meta.db_table in PICK_FUNCTION_SQL


def test_seats_gone_with_a_rolled_back_transaction_are_written_again(alpha, django_capture_on_commit_callbacks):
    rule, reps = _one_pool(size=3)
    with django_capture_on_commit_callbacks(execute=True):
        lead_submit(**LEAD)
    index = _index(rule)
    PoolSeat.objects.filter(pool=index.key).delete()  # as if the writing transaction had not committed after all
    result = lead_submit(**LEAD)
    assert result.lead.status == LeadStatus.ASSIGNED
    assert PoolSeat.objects.filter(pool=index.key).count() == 3


def test_seats_of_pools_made_over_a_week_ago_are_dropped_when_a_pool_is_written(alpha):
    PoolSeat.objects.create(pool=1, user_id=alpha.rep.pk, made_on=timezone.localdate() - dt.timedelta(days=8))
    PoolSeat.objects.create(pool=2, user_id=alpha.rep.pk, made_on=timezone.localdate() - dt.timedelta(days=2))
    _one_pool(size=2)
    lead_submit(**LEAD)
    assert not PoolSeat.objects.filter(pool=1).exists() and PoolSeat.objects.filter(pool=2).exists()


def test_a_capacity_changed_on_the_member_is_copied_to_the_load_row_in_the_same_transaction(alpha):
    rule, reps = _one_pool(size=2, capacity=5)
    lead_submit(**LEAD)
    member = Member.objects.get(pk=reps[0].pk)
    member.capacity = 1
    member.save()
    assert RepLoad.objects.get(user_id=member.user_id).capacity == 1


def test_a_capacity_changed_behind_the_models_back_is_copied_with_the_next_roster_version(alpha):
    rule, reps = _one_pool(Strategy.LEAST_LOADED, size=3, capacity=5)
    lead_submit(**LEAD)
    full = reps[1]
    RepLoad.objects.filter(user_id=full.user_id).update(open_count=2)
    Member.objects.filter(pk=full.pk).update(capacity=2)  # no signal: a bulk update
    rep_roster_forget()
    plan = routing_plan(Lead(contact_name="王", channel="api", **LEAD), rules=[RoutingRule.objects.get(pk=rule.pk)])
    result = lead_submit(**LEAD)
    skipped = {c["user_id"]: c for c in result.decision.candidates if c["verdict"] == "skipped"}
    assert skipped[full.user_id]["why"]["key"] == "routing.why.capacity"
    assert result.lead.owner_id == plan.first.user_id != full.user_id
    assert RepLoad.objects.get(user_id=full.user_id).capacity == 2


def test_the_recount_copies_close_rates_into_the_load_rows_and_the_top_performer_follows_them(alpha):
    rule, reps = _one_pool(Strategy.TOP_PERFORMER, size=4)
    lead_submit(**LEAD)  # load rows written, all at rate 0
    star = reps[2]
    won = lead_submit(budget_grade="C").lead
    Lead.objects.filter(pk=won.pk).update(owner=star.user, status=LeadStatus.CONVERTED, assigned_at=timezone.now())
    from django.core.cache import cache
    from leads.services.routing import CLOSE_RATES_CACHE_KEY
    from salesflow.memo import memo_clear

    cache.delete(CLOSE_RATES_CACHE_KEY)
    memo_clear()
    plan = routing_plan(Lead(contact_name="王", channel="api", **LEAD), rules=[RoutingRule.objects.get(pk=rule.pk)])
    assert RepLoad.objects.get(user_id=star.user_id).rank == 1.0
    result = lead_submit(**LEAD)
    assert result.lead.owner_id == plan.first.user_id == star.user_id


def test_an_unchanged_roster_reloaded_keeps_its_digest_without_recomputing_it(alpha, monkeypatch):
    from leads.services import roster as roster_module

    _one_pool(size=3)
    first = roster_current()
    monkeypatch.setattr(roster_module, "_digest", lambda reps: pytest.fail("digest recomputed for the same roster"))
    rep_roster_forget()  # the per-process copy expires: the roster is read again, same content
    again = roster_current()
    assert again.digest == first.digest and again is not first and not again.stored
    monkeypatch.undo()
    Member.objects.filter(user_id=first.reps[0].user_id).update(years_experience=first.reps[0].years_experience + 1)
    rep_roster_forget()
    assert roster_current().digest != first.digest


def test_a_version_row_rolled_back_after_it_was_remembered_is_written_again(alpha):
    """The process remembers a version as stored once committed; a later rollback (a test's, a
    restored database) must not leave a decision pointing at a missing row."""
    from leads.models import RosterVersion

    _one_pool(size=3)
    roster = roster_current()
    roster.stored = True  # as if committed earlier; the row is not in this database
    RosterVersion.objects.filter(pk=roster.digest).delete()
    rep_roster_forget()
    result = lead_submit(**LEAD)
    assert RosterVersion.objects.filter(pk=result.decision.roster_version_id).exists()
