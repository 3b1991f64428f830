"""Makes the audit table append-only in PostgreSQL itself.

Hand-written triggers (not django-pgtrigger's Protect, which any session can switch off
with `SET pgtrigger.ignore`): a row trigger refuses UPDATE and DELETE, a statement
trigger refuses TRUNCATE. The rights are revoked too, which binds every role that is
not the table's owner or a superuser. The chain head gets its genesis row.
"""
from django.db import migrations

FORWARD = """
CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_entry_refuse_update_delete
    BEFORE UPDATE OR DELETE ON audit_auditentry
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_entry_refuse_truncate
    BEFORE TRUNCATE ON audit_auditentry
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
REVOKE UPDATE, DELETE, TRUNCATE ON audit_auditentry FROM PUBLIC;
INSERT INTO audit_auditchainhead (id, seq, entry_hash) VALUES (1, 0, repeat('0', 64));
"""

BACKWARD = """
DROP TRIGGER audit_entry_refuse_truncate ON audit_auditentry;
DROP TRIGGER audit_entry_refuse_update_delete ON audit_auditentry;
DROP FUNCTION audit_refuse_change();
DELETE FROM audit_auditchainhead;
"""


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
