import json

import pytest
from django.db import connection, transaction

from audit.canonical import canonical_json, sha256_hex
from audit.services import audit_record


def record_many(actor, count: int, verb: str = "test.recorded", **fields):
    with transaction.atomic():
        return [audit_record(actor=actor, verb=verb, payload={"n": n}, **fields) for n in range(count)]


def as_owner(statements):
    """Run `statements` [(sql, params)] as the table owner would, with every trigger off."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        for sql, params in statements:
            cursor.execute(sql, params)
        cursor.execute("SET LOCAL session_replication_role = origin")


def rewrite_and_rehash_from(seq: int, *, reason: str = "rewritten"):
    """Edit entry `seq` and re-hash every entry after it, head included: the chain stays intact."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT seq, canonical FROM audit_auditentry WHERE seq >= %s ORDER BY seq", [seq])
        rows = cursor.fetchall()
        cursor.execute("SELECT entry_hash FROM audit_auditentry WHERE seq = %s", [seq - 1])
        prev = cursor.fetchone()[0]
    statements = []
    for number, canonical in rows:
        content = json.loads(canonical)
        content["prev_hash"] = prev
        if number == seq:
            content["reason"] = reason
        text = canonical_json(content)
        entry_hash = sha256_hex(text)
        statements.append((
            "UPDATE audit_auditentry SET canonical = %s, entry_hash = %s, prev_hash = %s, reason = %s WHERE seq = %s",
            [text, entry_hash, prev, content["reason"], number],
        ))
        prev = entry_hash
    statements.append(("UPDATE audit_auditchainhead SET entry_hash = %s WHERE id = 1", [prev]))
    as_owner(statements)


@pytest.fixture
def many(alpha):
    return lambda count: record_many(alpha.admin, count)
