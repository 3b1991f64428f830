"""A new lead is stored in one statement with its decision, its owner's notification and the audit
entry (leads.services.store): what lands in the database is what the services would have written
one by one — the objects the intake returns read back the same, the entry seals into the chain
exactly as audit_record seals, and the notification names this lead and decision."""
import datetime as dt

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.canonical import canonical_json, sha256_hex
from audit.models import AuditEntry
from audit.selectors import audit_chain_verify
from audit.services import audit_record
from leads.models import Lead, LeadStatus, RoutingDecision, RoutingRule, Strategy
from leads.services import lead_intake, lead_payload_validate
from leads.services.routing import rules_forget
from salesflow.notifications.models import Notification
from salesflow.org.selectors import rep_roster_forget
from salesflow.org.tests.factories import MemberFactory, TeamFactory, UserFactory

LEAD = {"contact_name": "王经理", "company": "测试医院", "channel": "api", "budget_grade": "B", "region": "上海",
        "product_line": "影像设备", "industry": "医疗器械", "note": "带\"引号\"与换行\n的备注", "external_id": "ext-store-1"}


def _round_robin_pool(size=3):
    team = TeamFactory(name="一条语句组")
    reps = [MemberFactory(user=UserFactory(), team=team, capacity=5) for _ in range(size)]
    RoutingRule.objects.update(enabled=False)
    RoutingRule.objects.create(name="一条语句轮询", position=1, strategy=Strategy.ROUND_ROBIN).pool_teams.add(team)
    rules_forget()
    rep_roster_forget()
    return reps


def _intake(now, **fields):
    clean, errors = lead_payload_validate({**LEAD, "phone": "13812345678", **fields}, coerce_strings=True)
    assert not errors, errors
    with transaction.atomic():
        return lead_intake(clean=clean, actor="intake key abc", via="api", now=now)


def _concrete(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields if not f.generated}


def test_the_lead_and_decision_read_back_as_the_intake_returned_them(alpha):
    reps = _round_robin_pool()
    now = timezone.now().replace(microsecond=123457)
    result = _intake(now, industry_match=77)
    assert result.lead.status == LeadStatus.ASSIGNED and result.lead.owner_id in {r.user_id for r in reps}
    assert _concrete(Lead.objects.get(pk=result.lead.pk)) == _concrete(result.lead)
    assert _concrete(RoutingDecision.objects.get(pk=result.decision.pk)) == _concrete(result.decision)
    assert Lead.objects.get(pk=result.lead.pk).created_at == now  # microseconds and zone kept


def test_the_owner_is_notified_of_this_lead_and_decision(alpha):
    _round_robin_pool()
    result = _intake(timezone.now())
    notification = Notification.objects.get(recipient_id=result.lead.owner_id)
    assert notification.event_key == f"lead.assigned:{result.lead.pk}:{result.decision.pk}"
    assert notification.payload == {"lead_id": result.lead.pk, "decision_id": result.decision.pk}
    assert notification.link == f"/leads/{result.lead.pk}/" and notification.kind == "assignment"
    assert notification.message["title"]["key"] == "lead.assigned.title"


def test_the_audit_entry_seals_into_the_chain_as_audit_record_seals(alpha):
    _round_robin_pool()
    with transaction.atomic():
        audit_record(actor="test", verb="test.before", payload={"n": 1})
    result = _intake(timezone.now())
    with transaction.atomic():
        audit_record(actor="test", verb="test.after", payload={"n": 2})
    entry = AuditEntry.objects.get(target_type="leads.lead", target_id=str(result.lead.pk))
    assert entry.verb == "lead.created" and entry.actor_label == "intake key abc"
    assert entry.payload["routing"]["decision"] == result.decision.pk
    assert entry.payload["routing"]["assignee_id"] == result.lead.owner_id
    content = {"actor": entry.actor_label, "actor_id": entry.actor_id, "created_at": entry.created_at,
               "payload": entry.payload, "prev_hash": entry.prev_hash, "reason": entry.reason, "seq": entry.seq,
               "target_id": entry.target_id, "target_type": entry.target_type, "verb": entry.verb}
    assert entry.canonical == canonical_json(content) and entry.entry_hash == sha256_hex(entry.canonical)
    assert AuditEntry.objects.get(seq=entry.seq + 1).prev_hash == entry.entry_hash
    assert audit_chain_verify().intact


def test_a_lead_for_the_pool_is_stored_with_its_decision_and_entry_and_no_notification(alpha):
    RoutingRule.objects.update(enabled=False)
    rules_forget()
    result = _intake(timezone.now() - dt.timedelta(minutes=5))
    assert result.lead.status == LeadStatus.POOL and result.lead.owner_id is None
    assert RoutingDecision.objects.get(lead=result.lead).pk == result.decision.pk
    assert AuditEntry.objects.filter(target_type="leads.lead", target_id=str(result.lead.pk), verb="lead.created").exists()
    assert not Notification.objects.filter(event_key__startswith=f"lead.assigned:{result.lead.pk}:").exists()
    assert audit_chain_verify().intact


def test_lead_decision_notification_and_entry_go_in_one_statement(alpha):
    _round_robin_pool()
    _intake(timezone.now(), phone="13900000001", external_id="ext-store-2")  # roster and seats stored
    with CaptureQueriesContext(connection) as queries:
        result = _intake(timezone.now(), phone="13900000002", external_id="ext-store-3")
    writes = [q["sql"] for q in queries.captured_queries if Lead._meta.db_table in q["sql"] and "INSERT" in q["sql"]]
    assert len(writes) == 1
    assert all(table in writes[0] for table in (RoutingDecision._meta.db_table, Notification._meta.db_table,
                                                AuditEntry._meta.db_table))
    assert result.lead.status == LeadStatus.ASSIGNED


def test_a_new_lead_costs_two_statements_the_claim_with_its_pick_and_the_write(alpha, django_capture_on_commit_callbacks):
    _round_robin_pool()
    with django_capture_on_commit_callbacks(execute=True):
        _intake(timezone.now(), phone="13900000011", external_id="ext-store-11")  # roster and seats stored
    with CaptureQueriesContext(connection) as queries:
        result = _intake(timezone.now(), phone="13900000012", external_id="ext-store-12")
    statements = [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]  # the test's transaction
    assert result.created and len(statements) == 2, [s[:90] for s in statements]
    assert "leads_intake_claim" in statements[0] and Lead._meta.db_table in statements[1]


def test_the_claim_finds_a_repeat_by_external_id_then_phone_then_email_and_follows_a_merge(alpha):
    _round_robin_pool()
    first = _intake(timezone.now(), phone="13900000021", email="a@example.com", external_id="ext-claim-1").lead
    second = _intake(timezone.now(), phone="13900000022", email="b@example.com", external_id="ext-claim-2").lead
    by_phone = _intake(timezone.now(), phone="13900000022", email="a@example.com", external_id="")
    assert (by_phone.created, by_phone.lead.pk) == (False, second.pk)  # phone before e-mail
    by_email = _intake(timezone.now(), phone="13900000029", email="a@example.com", external_id="")
    assert (by_email.created, by_email.lead.pk) == (False, first.pk)
    Lead.objects.filter(pk=first.pk).update(merged_into=second, status=LeadStatus.MERGED)
    replay = _intake(timezone.now(), phone="13900000030", email="c@example.com", external_id="ext-claim-1")
    assert (replay.created, replay.lead.pk) == (False, second.pk)  # a merged lead answers for its external id
    again = _intake(timezone.now(), phone="13900000031", email="a@example.com", external_id="")
    assert again.created  # a merged lead's e-mail is free again


def test_the_installed_claim_and_pick_functions_are_the_ones_the_code_describes(alpha):
    """Migration leads 0020 wrote the functions out as they were then: a change of their SQL in the
    code without a migration that installs it fails here."""
    from leads.services.claim import CLAIM_FUNCTION_SQL
    from leads.services.pick import PICK_FUNCTION_SQL

    def body(sql):
        quote = sql[sql.index(" AS $") + 4:].split("\n", 1)[0]
        return sql.split(quote)[1]

    with connection.cursor() as cursor:
        cursor.execute("SELECT proname, prosrc FROM pg_proc WHERE pronamespace = current_schema()::regnamespace "
                       "AND proname IN ('leads_intake_claim', 'leads_pool_pick')")
        installed = dict(cursor.fetchall())
    assert installed == {"leads_intake_claim": body(CLAIM_FUNCTION_SQL), "leads_pool_pick": body(PICK_FUNCTION_SQL)}
