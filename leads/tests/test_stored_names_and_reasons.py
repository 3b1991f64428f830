"""What the routing story and pool claims keep for later: people by name, reasons as messages,
rule and pool names as a Chinese tenant reads them; and the rows stored before, migrated."""
import datetime as dt
import importlib

import pytest
from django.apps import apps
from django.utils import timezone, translation

from leads.messages import candidate_line
from leads.models import PoolClaim, RoutingDecision, RoutingRule
from leads.selectors import lead_decisions
from leads.services import lead_claim, pool_release_expired
from leads.services.actions import lead_reassign
from salesflow.i18n import message, nested, render, typed
from salesflow.i18n.legacy import pool_release_reason
from salesflow.org.models import Availability, Member

from .factories import lead_submit

rename_migration = importlib.import_module("leads.migrations.0014_default_rules_named_in_chinese")
names_migration = importlib.import_module("leads.migrations.0016_claimers_named")


def _name(user) -> str:
    return Member.objects.get(user=user).full_name


def test_the_routing_story_names_the_claimer_and_the_reassigning_manager_by_full_name(alpha, client_for):
    lead = lead_submit(budget_grade="C").lead
    lead_claim(actor=alpha.rep, lead=lead)
    lead_reassign(actor=alpha.admin, lead=lead, new_owner=alpha.other_rep, reason="客户在苏州")
    with translation.override("zh-hans"):
        story = [d.reason_text for d in lead_decisions(lead)]
    assert f"由 {_name(alpha.rep)} 从公海领取" in story[-2] and alpha.rep.username not in story[-2]
    assert _name(alpha.admin) in story[-1] and alpha.admin.username not in story[-1] and "客户在苏州" in story[-1]
    page = client_for(alpha, alpha.admin).get(f"/leads/{lead.pk}/").content.decode()
    assert _name(alpha.rep) in page and f"由 {alpha.rep.username} " not in page


def test_a_released_claim_keeps_its_reason_as_a_message_read_in_each_language(alpha):
    lead = lead_submit(budget_grade="C").lead
    lead_claim(actor=alpha.rep, lead=lead, now=timezone.now() - dt.timedelta(hours=73))
    assert pool_release_expired(now=timezone.now()) == 1
    claim = PoolClaim.objects.get(lead=lead)
    assert claim.release_reason["key"] == "routing.released"
    with translation.override("en"):
        assert claim.release_reason_text == "released: no follow-up within 3 days of the claim"
    with translation.override("zh-hans"):
        assert "3 天" in claim.release_reason_text and "released" not in claim.release_reason_text


@pytest.mark.parametrize("sentence, expected_en", [
    ("no follow-up within 72 h", "released: no follow-up within 3 days of the claim"),
    ("released by hand", "released by hand"),  # not one we wrote: kept as data
])
def test_release_reasons_stored_as_sentences_become_messages(sentence, expected_en):
    with translation.override("en"):
        assert render(pool_release_reason(sentence)) == expected_en
    assert pool_release_reason("") == {}


def test_rules_still_named_as_first_seeded_are_renamed_with_their_pool_where_stories_quote_it(alpha):
    RoutingRule.objects.all().delete()
    seeded = RoutingRule.objects.create(name="B 级 → 区域+产品线轮询 (round robin)", position=40, budget_grades=["B"],
                                        pool_label="region + product line", strategy="round_robin")
    renamed_by_admin = RoutingRule.objects.create(name="C 级 → 公海 (public pool) 华东", position=50,
                                                  budget_grades=["C"], strategy="public_pool")
    lead = lead_submit(budget_grade="B").lead
    quoted = {"key": "routing.assigned_to", "params": {"rep": "吕荣", "reason": {"$": "msg", "v": {
        "key": "routing.round_robin", "params": {"pool": "region + product line"}}}}}
    decision = RoutingDecision.objects.create(lead=lead, rule=seeded, rule_name=seeded.name, outcome="assigned",
                                              reason_message=quoted)
    type(lead).objects.filter(pk=lead.pk).update(routing_reason_message=quoted)

    rename_migration.rename(apps, None)

    seeded.refresh_from_db(), renamed_by_admin.refresh_from_db(), decision.refresh_from_db(), lead.refresh_from_db()
    assert (seeded.name, seeded.pool_label) == ("B 级 → 区域+产品线轮询", "区域+产品线")
    assert renamed_by_admin.name == "C 级 → 公海 (public pool) 华东"
    assert decision.rule_name == "B 级 → 区域+产品线轮询"
    for stored in (decision.reason_message, lead.routing_reason_message):
        assert stored["params"]["reason"]["v"]["params"]["pool"] == "区域+产品线"
    with translation.override("zh-hans"):
        assert "“区域+产品线”" in decision.reason_text


def test_claims_stored_with_a_username_are_migrated_to_the_full_name(alpha):
    lead = lead_submit(budget_grade="C").lead
    claimed = RoutingDecision.objects.create(lead=lead, outcome="claimed", assignee=alpha.rep,
                                             reason_message={"key": "routing.claimed", "params": {"actor": "rep"}})
    stranger = RoutingDecision.objects.create(lead=lead, outcome="claimed",
                                              reason_message={"key": "routing.claimed", "params": {"actor": "gone"}})
    names_migration.name_people(apps, None)
    claimed.refresh_from_db(), stranger.refresh_from_db()
    assert claimed.reason_message["params"]["actor"] == _name(alpha.rep)
    assert stranger.reason_message["params"]["actor"] == "gone"


def test_a_story_candidate_reads_with_the_punctuation_of_each_language():
    away = {"user_id": 7, "name": "赵淑英", "verdict": "skipped", "open": 0, "capacity": 5,
            "why": message("routing.why.away", availability=typed("availability", Availability.ON_LEAVE),
                           until=nested(message("routing.why.open_end")))}
    full = {"user_id": 8, "name": "饶岩", "verdict": "skipped", "open": 5, "capacity": 5,
            "why": message("routing.why.capacity", open=5, capacity=5)}
    chosen = {"user_id": 9, "name": "甘淑珍", "verdict": "chosen", "open": 2, "capacity": 20, "why": None}
    with translation.override("zh-hans"):
        assert [candidate_line(c) for c in (away, full, chosen)] == [
            "赵淑英：跳过 — 不在岗（休假），直到另行通知（0/5）", "饶岩：跳过 — 已满额（5/5）", "甘淑珍：选中（2/20）"]
    with translation.override("en"):
        assert candidate_line(full) == "饶岩: skipped — at capacity (5/5)"
