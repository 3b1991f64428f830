"""Follow-ups are append-only once logged: the database refuses UPDATE and DELETE.

A correction is a new follow-up whose `corrects` points at the old one. Hand-written
trigger (as for the audit log) so no session setting can switch it off.
"""
from django.db import migrations

FORWARD = """
CREATE FUNCTION followups_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'follow-ups are append-only: % on % refused; log a correction instead', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER followups_followup_refuse_update_delete
    BEFORE UPDATE OR DELETE ON followups_followup
    FOR EACH ROW EXECUTE FUNCTION followups_refuse_change();
"""

BACKWARD = """
DROP TRIGGER followups_followup_refuse_update_delete ON followups_followup;
DROP FUNCTION followups_refuse_change();
"""


class Migration(migrations.Migration):
    dependencies = [("followups", "0001_initial")]
    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
