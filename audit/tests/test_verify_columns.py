"""The verifier compares every stored column with the content it sealed, whatever its type."""
import datetime as dt

from django.db import connection, transaction

from audit.selectors import audit_chain_verify
from audit.services import audit_record


def _tamper(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditentry DISABLE TRIGGER USER")
        cursor.execute(sql, params)
        cursor.execute("ALTER TABLE audit_auditentry ENABLE TRIGGER USER")


def _record(actor, **kwargs):
    with transaction.atomic():
        return audit_record(actor=actor, verb="test.recorded", **kwargs)


def test_a_shifted_time_is_named_even_by_one_microsecond(alpha):
    at = dt.datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    victim = _record(alpha.admin, at=at)
    _record(alpha.admin)
    assert audit_chain_verify().intact
    _tamper("UPDATE audit_auditentry SET created_at = created_at + interval '1 microsecond' WHERE id = %s", [victim.pk])
    verdict = audit_chain_verify()
    assert verdict.broken_seq == victim.seq
    assert "created_at" in verdict.problem


def test_a_reassigned_actor_is_named(alpha):
    victim = _record(alpha.rep, payload={"amount": "10.00"})
    _tamper("UPDATE audit_auditentry SET actor_id = %s WHERE id = %s", [alpha.manager.pk, victim.pk])
    verdict = audit_chain_verify()
    assert verdict.broken_seq == victim.seq
    assert "actor_id" in verdict.problem


def test_a_rewritten_hash_breaks_the_link_to_the_next_entry(alpha):
    victim = _record(alpha.admin)
    follower = _record(alpha.admin)
    _tamper("UPDATE audit_auditentry SET entry_hash = repeat('f', 64) WHERE id = %s", [victim.pk])
    verdict = audit_chain_verify()
    assert verdict.broken_seq == victim.seq
    assert "hash does not match" in verdict.problem
    assert verdict.count == victim.seq - 1 and follower.seq == victim.seq + 1


def test_verify_stops_at_the_broken_entry_across_many_chunks_and_leaves_the_connection_usable(alpha):
    entries = [_record(alpha.admin, payload={"i": i}) for i in range(12)]
    victim = entries[7]
    _tamper("UPDATE audit_auditentry SET payload = '{\"i\": -1}' WHERE id = %s", [victim.pk])
    verdict = audit_chain_verify(chunk_size=2)
    assert verdict.broken_seq == victim.seq
    assert "payload" in verdict.problem
    assert audit_chain_verify(chunk_size=3).broken_seq == victim.seq
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM audit_auditentry")
        assert cursor.fetchone()[0] >= 12
