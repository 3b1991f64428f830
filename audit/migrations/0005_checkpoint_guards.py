"""Checkpoints are append-only like the log, and the chain head moves only by an append.

The application's role must UPDATE the head (every append moves it), so a privilege cannot
stop it from rewinding the head to hide a cut tail. A constraint trigger, checked at the end
of the appending statement, accepts an update only when it advances the head by one to an
entry that exists and links to the old head; deleting, truncating or adding head rows is
refused outright.
"""
from django.db import migrations

FORWARD = """
CREATE TRIGGER audit_checkpoint_refuse_update_delete
    BEFORE UPDATE OR DELETE ON audit_checkpoint
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_checkpoint_refuse_truncate
    BEFORE TRUNCATE ON audit_checkpoint
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_checkpointstamp_refuse_update_delete
    BEFORE UPDATE OR DELETE ON audit_checkpointstamp
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_checkpointstamp_refuse_truncate
    BEFORE TRUNCATE ON audit_checkpointstamp
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
REVOKE UPDATE, DELETE, TRUNCATE ON audit_checkpoint, audit_checkpointstamp FROM PUBLIC;

CREATE FUNCTION audit_head_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    linked boolean;
BEGIN
    IF TG_OP = 'INSERT' THEN
        EXECUTE format('SELECT count(*) > 1 FROM %I.audit_auditchainhead', TG_TABLE_SCHEMA) INTO linked;
        IF linked THEN
            RAISE EXCEPTION 'the audit chain has one head' USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NULL;
    END IF;
    IF NEW.id <> OLD.id OR NEW.seq <> OLD.seq + 1 THEN
        RAISE EXCEPTION 'the audit chain head only moves forward by one append (% -> %)', OLD.seq, NEW.seq
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I.audit_auditentry WHERE seq = $1 AND entry_hash = $2 AND prev_hash = $3)',
                   TG_TABLE_SCHEMA)
       INTO linked USING NEW.seq, NEW.entry_hash, OLD.entry_hash;
    IF NOT linked THEN
        RAISE EXCEPTION 'the audit chain head must name the entry just appended (seq %)', NEW.seq
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER audit_head_moves_by_append
    AFTER INSERT OR UPDATE ON audit_auditchainhead
    FOR EACH ROW EXECUTE FUNCTION audit_head_guard();
CREATE TRIGGER audit_head_refuse_delete
    BEFORE DELETE ON audit_auditchainhead
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_head_refuse_truncate
    BEFORE TRUNCATE ON audit_auditchainhead
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
REVOKE DELETE, TRUNCATE ON audit_auditchainhead FROM PUBLIC;
"""

BACKWARD = """
DROP TRIGGER audit_head_refuse_truncate ON audit_auditchainhead;
DROP TRIGGER audit_head_refuse_delete ON audit_auditchainhead;
DROP TRIGGER audit_head_moves_by_append ON audit_auditchainhead;
DROP FUNCTION audit_head_guard();
DROP TRIGGER audit_checkpointstamp_refuse_truncate ON audit_checkpointstamp;
DROP TRIGGER audit_checkpointstamp_refuse_update_delete ON audit_checkpointstamp;
DROP TRIGGER audit_checkpoint_refuse_truncate ON audit_checkpoint;
DROP TRIGGER audit_checkpoint_refuse_update_delete ON audit_checkpoint;
"""


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_checkpoints")]
    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
