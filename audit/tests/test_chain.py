import datetime as dt
import hashlib
import threading
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction
from django_tenants.utils import schema_context

from audit.canonical import canonical_json
from audit.models import AuditEntry
from audit.selectors import audit_chain_verify
from audit.services import audit_record


def _record(actor, **kwargs):
    with transaction.atomic():
        return audit_record(actor=actor, verb=kwargs.pop("verb", "test.recorded"), **kwargs)


def test_canonical_form_is_sorted_compact_and_utc():
    moment = dt.datetime(2026, 11, 23, 20, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    text = canonical_json({"b": Decimal("1.50"), "a": moment, "c": "客户"})
    assert text == '{"a":"2026-11-23T12:00:00.000000+00:00","b":"1.50","c":"客户"}'


def test_canonical_form_refuses_naive_datetimes():
    with pytest.raises(ValueError):
        canonical_json({"at": dt.datetime(2026, 1, 1)})


def test_each_entry_links_to_the_one_before(alpha):
    first = _record(alpha.admin, payload={"amount": Decimal("12.30")})
    second = _record(alpha.rep, target=alpha.rep, reason="because")
    assert second.seq == first.seq + 1
    assert second.prev_hash == first.entry_hash
    assert second.target_type == "auth.user" and second.target_id == str(alpha.rep.pk)
    assert first.payload == {"amount": "12.30"}
    assert audit_chain_verify().intact


def test_verify_names_the_first_altered_entry(alpha):
    entries = [_record(alpha.admin, payload={"i": i}) for i in range(3)]
    victim = entries[1]
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditentry DISABLE TRIGGER USER")
        cursor.execute("UPDATE audit_auditentry SET payload = '{\"i\": 99}' WHERE id = %s", [victim.pk])
        cursor.execute("ALTER TABLE audit_auditentry ENABLE TRIGGER USER")
    verdict = audit_chain_verify()
    assert not verdict.intact
    assert verdict.broken_seq == victim.seq
    assert "payload" in verdict.problem


def test_verify_notices_a_deleted_entry(alpha):
    entries = [_record(alpha.admin, payload={"i": i}) for i in range(3)]
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditentry DISABLE TRIGGER USER")
        cursor.execute("DELETE FROM audit_auditentry WHERE id = %s", [entries[1].pk])
        cursor.execute("ALTER TABLE audit_auditentry ENABLE TRIGGER USER")
    verdict = audit_chain_verify()
    assert verdict.broken_seq == entries[2].seq
    assert "missing" in verdict.problem


def test_verify_audit_command_exits_1_naming_the_broken_entry(alpha, capsys):
    victim = _record(alpha.admin, reason="original")
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditentry DISABLE TRIGGER USER")
        cursor.execute("UPDATE audit_auditentry SET reason = 'rewritten' WHERE id = %s", [victim.pk])
        cursor.execute("ALTER TABLE audit_auditentry ENABLE TRIGGER USER")
    with pytest.raises(SystemExit) as exit_info:
        call_command("verify_audit", schema="alpha")
    assert exit_info.value.code == 1
    assert f"#{victim.seq}" in capsys.readouterr().err


def test_verify_audit_command_prints_the_count_when_intact(alpha, capsys):
    _record(alpha.admin)
    call_command("verify_audit", schema="alpha")
    out = capsys.readouterr().out
    assert "intact" in out and f"{AuditEntry.objects.count()} entries" in out


def test_the_admin_page_shows_the_verdict(alpha, client_for):
    _record(alpha.admin)
    response = client_for(alpha, alpha.admin).get("/admin/audit/auditentry/verify/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "intact" in response.content.decode() or "完好" in response.content.decode()


def test_twenty_concurrent_writers_make_one_unbroken_chain(committed_tenant):
    writers, per_writer = 20, 15
    barrier = threading.Barrier(writers)
    failures = []

    def write(n):
        try:
            with schema_context(committed_tenant.schema_name):
                barrier.wait()
                for i in range(per_writer):
                    with transaction.atomic():
                        audit_record(actor=f"writer-{n}", verb="test.concurrent", payload={"writer": n, "i": i})
        except Exception as exc:  # collected and asserted below
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with schema_context(committed_tenant.schema_name):
        verdict = audit_chain_verify()
        seqs = list(AuditEntry.objects.order_by("seq").values_list("seq", flat=True))
    assert verdict.intact, str(verdict)
    assert seqs == list(range(1, len(seqs) + 1))
    assert len(seqs) >= writers * per_writer


def test_the_sealed_text_is_exactly_the_canonical_form_of_the_entry(alpha):
    entry = _record(alpha.admin, target=alpha.rep, payload={"金额": Decimal("9.90"), "at": dt.datetime(2026, 1, 2, tzinfo=dt.timezone.utc)}, reason='a "quoted" reason')
    content = {
        "seq": entry.seq, "prev_hash": entry.prev_hash, "created_at": entry.created_at, "actor_id": alpha.admin.pk,
        "actor": alpha.admin.username, "verb": "test.recorded", "target_type": "auth.user", "target_id": str(alpha.rep.pk),
        "payload": {"金额": "9.90", "at": "2026-01-02T00:00:00.000000+00:00"}, "reason": 'a "quoted" reason',
    }
    assert entry.canonical == canonical_json(content)
    assert entry.entry_hash == hashlib.sha256(entry.canonical.encode()).hexdigest()
    stored = AuditEntry.objects.get(pk=entry.pk)
    assert (stored.canonical, stored.entry_hash, stored.seq) == (entry.canonical, entry.entry_hash, entry.seq)


def test_actions_have_readable_names_in_both_languages():
    from django.utils import translation

    from audit.labels import verb_label

    with translation.override("en"):
        assert verb_label("lead.routed") == "lead routed"
        assert verb_label("something.unnamed") == "something.unnamed"
    with translation.override("zh-hans"):
        assert verb_label("roster.imported") == "花名册已导入"
