import os

import pytest
from django.db import DatabaseError, connection, transaction

from audit.services import AuditOutsideTransaction, audit_record
from salesflow.tenancy.services import app_role_grant


ROLE = f"salesflow_test_app_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"


def _one_entry(actor):
    with transaction.atomic():
        return audit_record(actor=actor, verb="test.recorded", payload={"n": 1})


def _refused(sql: str, params=()):
    with pytest.raises(DatabaseError) as caught, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
    return str(caught.value)


def test_it_refuses_update_of_an_entry(alpha):
    entry = _one_entry(alpha.admin)
    message = _refused("UPDATE audit_auditentry SET reason = 'edited' WHERE id = %s", [entry.pk])
    assert "append-only" in message
    entry.refresh_from_db()
    assert entry.reason == ""


def test_it_refuses_delete_of_an_entry(alpha):
    entry = _one_entry(alpha.admin)
    assert "append-only" in _refused("DELETE FROM audit_auditentry WHERE id = %s", [entry.pk])
    entry.refresh_from_db()


def test_it_refuses_truncate(alpha):
    _one_entry(alpha.admin)
    assert "append-only" in _refused("TRUNCATE audit_auditentry")


def test_pgtrigger_ignore_setting_changes_nothing(alpha):
    entry = _one_entry(alpha.admin)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL pgtrigger.ignore = '{audit_auditentry:audit_entry_refuse_update_delete}'")
    assert "append-only" in _refused("UPDATE audit_auditentry SET verb = 'forged' WHERE id = %s", [entry.pk])


def test_the_orm_cannot_update_either(alpha):
    entry = _one_entry(alpha.admin)
    with pytest.raises(DatabaseError), transaction.atomic():
        type(entry).objects.filter(pk=entry.pk).update(reason="edited")


def test_the_app_role_may_write_tables_but_not_rewrite_the_log(alpha):
    entry = _one_entry(alpha.admin)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP ROLE IF EXISTS {ROLE}")
        cursor.execute(f"CREATE ROLE {ROLE} NOLOGIN")
    app_role_grant(role=ROLE, schemas=["public", "alpha"])
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL ROLE {ROLE}")
        cursor.execute("UPDATE org_region SET name = name")  # ordinary tables: allowed
    audit_record(actor=alpha.admin, verb="test.as_app_role")  # appending: allowed
    assert "permission denied" in _refused("UPDATE audit_auditentry SET reason = 'x' WHERE id = %s", [entry.pk])


def test_recording_outside_a_transaction_is_refused(alpha):
    with pytest.raises(AuditOutsideTransaction):
        # pytest-django wraps the test in a transaction; leave it to prove the guard.
        connection.in_atomic_block, saved = False, connection.in_atomic_block
        try:
            audit_record(actor=alpha.admin, verb="test.recorded")
        finally:
            connection.in_atomic_block = saved
