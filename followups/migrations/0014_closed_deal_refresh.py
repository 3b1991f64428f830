"""Keep `followups_closeddeal` (one summary row per won or lost opportunity) by triggers, and fill it.

`followups_closed_deal_refresh(schema, ids)` rewrites the rows of the given opportunities
(every closed one when `ids` is NULL): deletes those no longer closed, computes the others
from their follow-ups, contacts and lead. Triggers call it in the transaction of the write:

  opportunity  inserted closed (statement level), or updated in a column the row depends on
               while closed or on leaving / reaching a close (row level);
  follow-up    inserted on a closed deal (statement level; bulk inserts refresh once);
  contacts touched by a follow-up, added or removed (statement level);
  contact      added, removed, or changed role, key-person flag or account (the account's
               closed deals: key people and roles count as they are now).

Every table is qualified with the schema of the table that fired (TG_TABLE_SCHEMA), so a
write made under another search_path cannot refresh another tenant's rows (tenant schemas
are cloned from a template, so a search_path fixed at creation would be the template's).

Offsets are microseconds after the deal's creation; the window test of the attribution
page is `offset <= N days`, the same as `occurred_at <= created_at + N days` in UTC.
"""
from django.db import migrations

ACTIONS = ("needs_diagnosis", "proposal", "demo", "case_material", "poc", "quote", "tender", "decision_chain", "contract",
           "legal_review")
ROLES = ("cio", "purchasing", "engineer", "finance", "end_user", "other")
KINDS = ("call", "wechat", "visit", "email", "meeting")


def _firsts(column: str, codes) -> str:
    return "ARRAY[" + ", ".join(f"min(at) FILTER (WHERE {column} = ''{code}'')" for code in codes) + "]::bigint[]"


def _array(codes) -> str:
    return "ARRAY[" + ", ".join(f"''{code}''" for code in codes) + "]::text[]"


REFRESH = r"""
CREATE FUNCTION followups_closed_deal_refresh(target text, deal_ids bigint[]) RETURNS integer LANGUAGE plpgsql AS $fn$
DECLARE
    written integer;
BEGIN
    EXECUTE format('
        DELETE FROM %1$I.followups_closeddeal c
        WHERE ($1 IS NULL OR c.opportunity_id = ANY($1))
          AND NOT EXISTS (SELECT 1 FROM %1$I.followups_opportunity o JOIN %1$I.followups_stage st ON st.id = o.stage_id
                          WHERE o.id = c.opportunity_id AND NOT o.is_open AND st.outcome IN (''won'', ''lost''))',
        target) USING deal_ids;
    EXECUTE format('
        WITH deal AS MATERIALIZED (
            SELECT o.id, o.account_id, o.owner_id, st.outcome = ''won'' AS won, o.created_at,
                   o.stage_entered_at AS closed_at, o.product_line, COALESCE(l.channel, '''') AS channel,
                   m.team_id, COALESCE(t.region_id, m.region_id) AS region_id
            FROM %1$I.followups_opportunity o
            JOIN %1$I.followups_stage st ON st.id = o.stage_id
            LEFT JOIN %1$I.org_member m ON m.user_id = o.owner_id
            LEFT JOIN %1$I.org_team t ON t.id = m.team_id
            LEFT JOIN %1$I.leads_lead l ON l.id = o.source_lead_id
            WHERE NOT o.is_open AND st.outcome IN (''won'', ''lost'') AND ($1 IS NULL OR o.id = ANY($1))
        ),
        touch AS MATERIALIZED (
            SELECT f.id, f.opportunity_id AS deal_id, f.kind, f.action, f.template_id,
                   (extract(epoch FROM f.occurred_at - d.created_at) * 1000000)::bigint AS at
            FROM %1$I.followups_followup f JOIN deal d ON d.id = f.opportunity_id
            WHERE f.corrects_id IS NULL AND f.occurred_at <= d.closed_at
        ),
        acts AS (
            SELECT deal_id, __ACTION_FIRSTS__ AS action_at, min(at) AS first_at,
                   (((min(at * 8 + array_position(__KINDS__, kind::text)) %% 8) + 8) %% 8)::int AS first_kind
            FROM touch GROUP BY deal_id
        ),
        people AS (
            SELECT t.deal_id, c.id, c.role, c.is_key_person, min(t.at) AS at
            FROM touch t
            JOIN %1$I.followups_followup_contacts fc ON fc.followup_id = t.id
            JOIN %1$I.followups_contact c ON c.id = fc.contact_id
            GROUP BY t.deal_id, c.id, c.role, c.is_key_person
        ),
        roles AS (
            SELECT deal_id, __ROLE_FIRSTS__ AS role_at, array_agg(at ORDER BY at) FILTER (WHERE is_key_person) AS key_at
            FROM people GROUP BY deal_id
        ),
        templates AS (
            SELECT deal_id, array_agg(template_id ORDER BY template_id) AS ids, array_agg(at ORDER BY template_id) AS ats
            FROM (SELECT deal_id, template_id, min(at) AS at FROM touch WHERE template_id IS NOT NULL GROUP BY 1, 2) x
            GROUP BY deal_id
        ),
        key_people AS (
            SELECT c.account_id, count(*)::int AS n FROM %1$I.followups_contact c
            WHERE c.is_key_person AND c.account_id IN (SELECT account_id FROM deal)
            GROUP BY c.account_id
        )
        INSERT INTO %1$I.followups_closeddeal AS s (
            opportunity_id, account_id, owner_id, region_id, team_id, won, created_at, closed_at, product_line,
            channel, first_kind, first_at, action_at, role_at, key_at, key_people, template_ids, template_at)
        SELECT d.id, d.account_id, d.owner_id, d.region_id, d.team_id, d.won, d.created_at, d.closed_at,
               d.product_line, d.channel, COALESCE((__KINDS__)[a.first_kind], ''''), a.first_at,
               COALESCE(a.action_at, ''{}''), COALESCE(r.role_at, ''{}''), COALESCE(r.key_at, ''{}''),
               COALESCE(kp.n, 0), COALESCE(tp.ids, ''{}''), COALESCE(tp.ats, ''{}'')
        FROM deal d
        LEFT JOIN acts a ON a.deal_id = d.id
        LEFT JOIN roles r ON r.deal_id = d.id
        LEFT JOIN templates tp ON tp.deal_id = d.id
        LEFT JOIN key_people kp ON kp.account_id = d.account_id
        ON CONFLICT (opportunity_id) DO UPDATE SET
            -- Region and team as of the close: kept unless the deal changed hands or closed anew.
            region_id = CASE WHEN s.owner_id = EXCLUDED.owner_id AND s.closed_at = EXCLUDED.closed_at
                             THEN s.region_id ELSE EXCLUDED.region_id END,
            team_id = CASE WHEN s.owner_id = EXCLUDED.owner_id AND s.closed_at = EXCLUDED.closed_at
                           THEN s.team_id ELSE EXCLUDED.team_id END,
            account_id = EXCLUDED.account_id, owner_id = EXCLUDED.owner_id, won = EXCLUDED.won,
            created_at = EXCLUDED.created_at, closed_at = EXCLUDED.closed_at, product_line = EXCLUDED.product_line,
            channel = EXCLUDED.channel, first_kind = EXCLUDED.first_kind, first_at = EXCLUDED.first_at,
            action_at = EXCLUDED.action_at, role_at = EXCLUDED.role_at, key_at = EXCLUDED.key_at,
            key_people = EXCLUDED.key_people, template_ids = EXCLUDED.template_ids, template_at = EXCLUDED.template_at',
        target) USING deal_ids;
    GET DIAGNOSTICS written = ROW_COUNT;
    RETURN written;
END
$fn$;

-- Opportunities inserted already closed (imports, bulk SQL): one refresh per statement.
CREATE FUNCTION followups_closed_deal_on_opportunity_insert() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE ids bigint[];
BEGIN
    SELECT array_agg(id) INTO ids FROM new_rows WHERE NOT is_open;
    IF ids IS NOT NULL THEN PERFORM followups_closed_deal_refresh(TG_TABLE_SCHEMA, ids); END IF;
    RETURN NULL;
END
$fn$;
CREATE TRIGGER followups_opportunity_closed_deal_ins
    AFTER INSERT ON followups_opportunity REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION followups_closed_deal_on_opportunity_insert();

-- Opportunities deleted (only those without follow-ups can be): their rows go.
CREATE FUNCTION followups_closed_deal_on_opportunity_delete() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE ids bigint[];
BEGIN
    SELECT array_agg(id) INTO ids FROM old_rows WHERE NOT is_open;
    IF ids IS NOT NULL THEN PERFORM followups_closed_deal_refresh(TG_TABLE_SCHEMA, ids); END IF;
    RETURN NULL;
END
$fn$;
CREATE TRIGGER followups_opportunity_closed_deal_del
    AFTER DELETE ON followups_opportunity REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION followups_closed_deal_on_opportunity_delete();

CREATE FUNCTION followups_closed_deal_on_opportunity_update() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM followups_closed_deal_refresh(TG_TABLE_SCHEMA, ARRAY[NEW.id]::bigint[]);
    RETURN NULL;
END
$fn$;
CREATE TRIGGER followups_opportunity_closed_deal_upd
    AFTER UPDATE OF is_open, stage_id, stage_entered_at, created_at, owner_id, product_line, source_lead_id, account_id
    ON followups_opportunity FOR EACH ROW
    WHEN ((NOT OLD.is_open OR NOT NEW.is_open) AND
          (OLD.is_open, OLD.stage_id, OLD.stage_entered_at, OLD.created_at, OLD.owner_id, OLD.product_line,
           OLD.source_lead_id, OLD.account_id)
          IS DISTINCT FROM
          (NEW.is_open, NEW.stage_id, NEW.stage_entered_at, NEW.created_at, NEW.owner_id, NEW.product_line,
           NEW.source_lead_id, NEW.account_id))
    EXECUTE FUNCTION followups_closed_deal_on_opportunity_update();

-- Follow-ups logged on closed deals (a late or backdated entry): the deals they belong to.
CREATE FUNCTION followups_closed_deal_on_followup_insert() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE ids bigint[];
BEGIN
    EXECUTE format('SELECT array_agg(DISTINCT n.opportunity_id) FROM new_rows n
                    JOIN %1$I.followups_opportunity o ON o.id = n.opportunity_id WHERE NOT o.is_open', TG_TABLE_SCHEMA)
        INTO ids;
    IF ids IS NOT NULL THEN PERFORM followups_closed_deal_refresh(TG_TABLE_SCHEMA, ids); END IF;
    RETURN NULL;
END
$fn$;
CREATE TRIGGER followups_followup_closed_deal_ins
    AFTER INSERT ON followups_followup REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION followups_closed_deal_on_followup_insert();

-- Contacts touched by a follow-up, added or removed.
CREATE FUNCTION followups_closed_deal_on_touched_change() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE ids bigint[];
BEGIN
    EXECUTE format('SELECT array_agg(DISTINCT f.opportunity_id) FROM changed_rows n
                    JOIN %1$I.followups_followup f ON f.id = n.followup_id
                    JOIN %1$I.followups_opportunity o ON o.id = f.opportunity_id WHERE NOT o.is_open', TG_TABLE_SCHEMA)
        INTO ids;
    IF ids IS NOT NULL THEN PERFORM followups_closed_deal_refresh(TG_TABLE_SCHEMA, ids); END IF;
    RETURN NULL;
END
$fn$;
CREATE TRIGGER followups_followup_contacts_closed_deal_ins
    AFTER INSERT ON followups_followup_contacts REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION followups_closed_deal_on_touched_change();
CREATE TRIGGER followups_followup_contacts_closed_deal_del
    AFTER DELETE ON followups_followup_contacts REFERENCING OLD TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION followups_closed_deal_on_touched_change();

-- Contacts added, removed or changed: the closed deals of their accounts.
CREATE FUNCTION followups_closed_deal_on_contact_change() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE ids bigint[];
BEGIN
    EXECUTE format('SELECT array_agg(o.id) FROM %1$I.followups_opportunity o
                    WHERE NOT o.is_open AND o.account_id IN (SELECT account_id FROM changed_rows)', TG_TABLE_SCHEMA)
        INTO ids;
    IF ids IS NOT NULL THEN PERFORM followups_closed_deal_refresh(TG_TABLE_SCHEMA, ids); END IF;
    RETURN NULL;
END
$fn$;
CREATE TRIGGER followups_contact_closed_deal_ins
    AFTER INSERT ON followups_contact REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION followups_closed_deal_on_contact_change();
CREATE TRIGGER followups_contact_closed_deal_del
    AFTER DELETE ON followups_contact REFERENCING OLD TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION followups_closed_deal_on_contact_change();

CREATE FUNCTION followups_closed_deal_on_contact_update() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE ids bigint[];
BEGIN
    EXECUTE format('SELECT array_agg(o.id) FROM %1$I.followups_opportunity o
                    WHERE NOT o.is_open AND o.account_id IN ($1, $2)', TG_TABLE_SCHEMA)
        INTO ids USING OLD.account_id, NEW.account_id;
    IF ids IS NOT NULL THEN PERFORM followups_closed_deal_refresh(TG_TABLE_SCHEMA, ids); END IF;
    RETURN NULL;
END
$fn$;
CREATE TRIGGER followups_contact_closed_deal_upd
    AFTER UPDATE OF role, is_key_person, account_id ON followups_contact FOR EACH ROW
    WHEN ((OLD.role, OLD.is_key_person, OLD.account_id) IS DISTINCT FROM (NEW.role, NEW.is_key_person, NEW.account_id))
    EXECUTE FUNCTION followups_closed_deal_on_contact_update();

-- The deals already closed.
SELECT followups_closed_deal_refresh(current_schema(), NULL);
""".replace("__ACTION_FIRSTS__", _firsts("action", ACTIONS)).replace(
    "__ROLE_FIRSTS__", _firsts("role", ROLES)).replace("__KINDS__", _array(KINDS))

UNREFRESH = """
DROP TRIGGER followups_contact_closed_deal_upd ON followups_contact;
DROP TRIGGER followups_contact_closed_deal_del ON followups_contact;
DROP TRIGGER followups_contact_closed_deal_ins ON followups_contact;
DROP TRIGGER followups_followup_contacts_closed_deal_del ON followups_followup_contacts;
DROP TRIGGER followups_followup_contacts_closed_deal_ins ON followups_followup_contacts;
DROP TRIGGER followups_followup_closed_deal_ins ON followups_followup;
DROP TRIGGER followups_opportunity_closed_deal_upd ON followups_opportunity;
DROP TRIGGER followups_opportunity_closed_deal_ins ON followups_opportunity;
DROP TRIGGER followups_opportunity_closed_deal_del ON followups_opportunity;
DROP FUNCTION followups_closed_deal_on_opportunity_delete();
DROP FUNCTION followups_closed_deal_on_contact_update();
DROP FUNCTION followups_closed_deal_on_contact_change();
DROP FUNCTION followups_closed_deal_on_touched_change();
DROP FUNCTION followups_closed_deal_on_followup_insert();
DROP FUNCTION followups_closed_deal_on_opportunity_update();
DROP FUNCTION followups_closed_deal_on_opportunity_insert();
DROP FUNCTION followups_closed_deal_refresh(text, bigint[]);
DELETE FROM followups_closeddeal;
"""


class Migration(migrations.Migration):

    dependencies = [
        ("followups", "0013_closed_deal"),
        ("leads", "0002_leadpolicy_importjob_repload_routingrule_lead_and_more"),
    ]

    operations = [migrations.RunSQL(REFRESH, UNREFRESH)]
