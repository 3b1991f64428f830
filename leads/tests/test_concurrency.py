"""Real threads against real PostgreSQL, in a tenant whose writes commit."""
import threading
from collections import Counter

from django.db import connections
from django_tenants.utils import schema_context

from audit.selectors import audit_chain_verify
from leads.models import Lead, LeadStatus, RoutingDecision, RoutingRule, Strategy
from leads.services import ClaimRefused, lead_claim
from salesflow.org.tests.factories import MemberFactory, TeamFactory, UserFactory

from .factories import lead_submit


def _run(threads_count, target):
    barrier = threading.Barrier(threads_count)
    failures, results = [], []

    def work(n):
        try:
            barrier.wait()
            results.append(target(n))
        except Exception as exc:  # collected and asserted by the caller
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, failures


def test_round_robin_is_strictly_fair_under_concurrent_intake(django_db_setup, committed_tenant):
    schema = committed_tenant.schema_name
    with schema_context(schema):
        team = TeamFactory(name="轮询组")
        reps = [MemberFactory(user=UserFactory(username=f"rr{i}"), team=team, capacity=1000) for i in range(5)]
        RoutingRule.objects.update(enabled=False)
        rule = RoutingRule.objects.create(name="all → team", position=1, strategy=Strategy.ROUND_ROBIN)
        rule.pool_teams.add(team)
    per_thread, threads = 6, 10

    def submit(n):
        with schema_context(schema):
            return [lead_submit(company=f"c{n}-{i}").lead.owner_id for i in range(per_thread)]

    results, failures = _run(threads, submit)
    assert failures == []
    with schema_context(schema):
        owners = list(Lead.objects.order_by("assigned_at", "id").values_list("owner_id", flat=True))
        counts = Counter(owners)
        assert sum(counts.values()) == per_thread * threads
        assert set(counts) == {m.user_id for m in reps}
        assert max(counts.values()) - min(counts.values()) <= 1
        # No two leads took the same slot and nobody was skipped: decisions are numbered while the
        # rule's row lock is held, so in that order every five consecutive ones name all five reps.
        ordered = list(RoutingDecision.objects.order_by("id").values_list("assignee_id", flat=True))
        assert all(len(set(ordered[i:i + 5])) == 5 for i in range(len(ordered) - 4))
        assert audit_chain_verify().intact


def test_two_reps_claiming_at_once_have_exactly_one_winner(django_db_setup, committed_tenant):
    schema = committed_tenant.schema_name
    with schema_context(schema):
        team = TeamFactory(name="公海组")
        claimers = [MemberFactory(user=UserFactory(username=f"cl{i}"), team=team).user for i in range(8)]
        lead = lead_submit(budget_grade="C").lead
        assert lead.status == LeadStatus.POOL

    def claim(n):
        with schema_context(schema):
            try:
                lead_claim(actor=claimers[n], lead=Lead.objects.get(pk=lead.pk))
                return "won"
            except ClaimRefused as exc:
                return str(exc)

    results, failures = _run(len(claimers), claim)
    assert failures == []
    assert results.count("won") == 1
    assert all(r == "这条线索已被他人抢先领取。" for r in results if r != "won")
    with schema_context(schema):
        lead.refresh_from_db()
        assert lead.owner_id in {u.pk for u in claimers} and lead.claims.count() == 1
        from leads.models import RepLoad
        assert sum(RepLoad.objects.values_list("open_count", flat=True)) == 1


def test_a_rule_deleted_by_another_process_does_not_lose_the_next_lead(django_db_setup, committed_tenant):
    """This process still remembers the rule (another process deleted it); the database refuses the
    stale copy, the intake forgets and routes again, and the lead is stored."""
    from django.core.cache import cache

    from leads.services import lead_intake, lead_payload_validate
    from leads.services.routing import RULES_CACHE_KEY

    with schema_context(committed_tenant.schema_name):
        team = TeamFactory(name="轮询组")
        MemberFactory(user=UserFactory(username="rr-stale"), team=team)
        RoutingRule.objects.update(enabled=False)
        rule = RoutingRule.objects.create(name="all → team", position=1, strategy=Strategy.ROUND_ROBIN)
        rule.pool_teams.add(team)
        assert lead_submit(company="warm").lead.status == LeadStatus.ASSIGNED  # the rule is now remembered
        # As the admin in another process would: the row and the shared cache go, this process's copy stays.
        RoutingRule.objects.filter(pk=rule.pk).delete()
        cache.delete(RULES_CACHE_KEY)
        clean, errors = lead_payload_validate({"contact_name": "李四", "phone": "13700001111", "channel": "api"})
        result = lead_intake(clean=clean, actor="test", via="test")
        assert result.created and Lead.objects.filter(pk=result.lead.pk).exists()
        assert result.lead.status == LeadStatus.POOL and result.lead.routing_reason_message["key"] == "routing.no_rule"
    connections.close_all()


def test_outside_a_transaction_an_intake_commits_its_lead_decision_notification_entry_and_any_delivery(
        django_db_setup, committed_tenant):
    """Committed as one transaction: the lead with its decision, the owner's notification and the
    audit entry; with an enabled channel, the delivery too (written from the notification's rows)."""
    from audit.models import AuditEntry
    from leads.services import lead_intake, lead_payload_validate
    from salesflow.memo import memo_forget_tenant
    from salesflow.notifications.models import Channel, Delivery, Notification

    def intake(phone):
        clean, errors = lead_payload_validate({"contact_name": "李四", "phone": phone, "channel": "api"})
        assert not errors
        return lead_intake(clean=clean, actor="test", via="test")

    def stored(lead):
        return (Lead.objects.get(pk=lead.pk).owner_id == lead.owner_id
                and RoutingDecision.objects.filter(lead=lead, assignee_id=lead.owner_id).exists()
                and Notification.objects.filter(recipient_id=lead.owner_id, event_key__startswith=f"lead.assigned:{lead.pk}:").exists()
                and AuditEntry.objects.filter(verb="lead.created", target_id=str(lead.pk)).exists())

    with schema_context(committed_tenant.schema_name):
        team = TeamFactory(name="提交组")
        MemberFactory(user=UserFactory(username="commit-rep", email="commit-rep@example.com"), team=team)
        RoutingRule.objects.update(enabled=False)
        RoutingRule.objects.create(name="all → team", position=1, strategy=Strategy.ROUND_ROBIN).pool_teams.add(team)
        quiet = intake("13700002221").lead
        assert quiet.owner_id is not None and stored(quiet)
        assert not Delivery.objects.exists()
        Channel.objects.create(name="mail", kind=Channel.Kind.EMAIL)
        memo_forget_tenant()
        mailed = intake("13700002222").lead
        assert stored(mailed)
        assert Delivery.objects.filter(target="commit-rep@example.com").count() == 1
        assert audit_chain_verify().intact
    connections.close_all()


def test_twin_submissions_at_once_make_one_lead_and_the_others_find_it(django_db_setup, committed_tenant, monkeypatch):
    """The claim's lookups read after its locks: of twins sent at the same moment (same phone; same
    Idempotency-Key and body), one creates the lead and every other finds that lead at its first
    attempt (none is refused by a unique index and tried again)."""
    from leads.models import IdempotencyRecord, LeadTouch
    from leads.services import intake as intake_module
    from leads.services import intake_key_create, lead_intake, lead_payload_validate

    attempts = []
    first_attempt = intake_module._lead_intake_once
    monkeypatch.setattr(intake_module, "_lead_intake_once", lambda **kw: attempts.append(1) or first_attempt(**kw))

    schema = committed_tenant.schema_name
    with schema_context(schema):
        team = TeamFactory(name="孪生组")
        MemberFactory(user=UserFactory(username="twin-rep"), team=team, capacity=100)
        RoutingRule.objects.update(enabled=False)
        RoutingRule.objects.create(name="all → team", position=1, strategy=Strategy.ROUND_ROBIN).pool_teams.add(team)
        key, _secret = intake_key_create(actor="test", label="twins")

    def twin(phone, idempotency_key=""):
        def submit(n):
            with schema_context(schema):
                clean, errors = lead_payload_validate({"contact_name": f"双{n}", "phone": phone, "channel": "api"})
                assert not errors
                result = lead_intake(clean=clean, actor="test", via="api", intake_key=key, idempotency_key=idempotency_key,
                                     request_hash="same-body" if idempotency_key else "")
                return result.created, result.lead.pk
        return submit

    for submit in (twin("13700003331"), twin("13700003332", idempotency_key="order-42")):
        results, failures = _run(6, submit)
        assert failures == []
        assert sorted(created for created, _ in results) == [False] * 5 + [True]
        assert len({lead_id for _, lead_id in results}) == 1
    with schema_context(schema):
        assert Lead.objects.filter(phone_normalized="+8613700003331").count() == 1
        assert LeadTouch.objects.filter(lead__phone_normalized="+8613700003331").count() == 5  # the twins, attached
        assert Lead.objects.filter(phone_normalized="+8613700003332").count() == 1
        assert IdempotencyRecord.objects.filter(key="order-42").count() == 1
        assert audit_chain_verify().intact
    assert len(attempts) == 12
    connections.close_all()
