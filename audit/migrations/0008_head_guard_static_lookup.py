"""The chain-head guard looks the appended entry up with a statement PL/pgSQL plans once per
session, instead of building, parsing and planning it again for every append (EXECUTE).

The guard must read the entry table of the schema whose head moved (TG_TABLE_SCHEMA), not the
first one the caller's search_path finds. The static statement is used only when the two are the
same table (a tenant's own request: its schema first on the path, no temporary table of that
name); any other case takes the schema-qualified EXECUTE, as before. The function body names no
schema, so a tenant cloned from the template gets a correct copy.
"""
from django.db import migrations

GUARD = """
CREATE OR REPLACE FUNCTION audit_head_guard() RETURNS trigger LANGUAGE plpgsql AS $$
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
    IF to_regclass('audit_auditentry') = to_regclass(format('%I.audit_auditentry', TG_TABLE_SCHEMA)) THEN
        SELECT EXISTS (SELECT 1 FROM audit_auditentry
                        WHERE seq = NEW.seq AND entry_hash = NEW.entry_hash AND prev_hash = OLD.entry_hash)
          INTO linked;
    ELSE
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I.audit_auditentry WHERE seq = $1 AND entry_hash = $2 AND prev_hash = $3)',
                       TG_TABLE_SCHEMA)
           INTO linked USING NEW.seq, NEW.entry_hash, OLD.entry_hash;
    END IF;
    IF NOT linked THEN
        RAISE EXCEPTION 'the audit chain head must name the entry just appended (seq %)', NEW.seq
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NULL;
END
$$;
"""

PREVIOUS = """
CREATE OR REPLACE FUNCTION audit_head_guard() RETURNS trigger LANGUAGE plpgsql AS $$
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
"""


class Migration(migrations.Migration):
    dependencies = [("audit", "0007_merge_0004_health_0006_merkletile_inner_nodes")]
    operations = [migrations.RunSQL(GUARD, PREVIOUS)]
