"""leads_pool_pick and leads_intake_claim: an intake's advisory locks, key check, Idempotency-Key and
duplicate lookups and its first pick in one call (leads.services.claim), where they were up to four
statements; the pick as a function that call and the later picks share (leads.services.pick).

The functions are written out here as they were installed: a later change of their SQL in
leads.services needs a migration of its own (leads.tests.test_intake_store checks that the installed
functions are the ones the code describes).
"""
from django.db import migrations

PICK_FUNCTION_SQL = r"""
CREATE OR REPLACE FUNCTION leads_pool_pick(given_strategy text, given_pool bigint, given_rule bigint,
                                           given_exclude bigint[])
RETURNS TABLE (out_kind text, out_user bigint, out_first bigint, out_second bigint, out_rank float8)
LANGUAGE plpgsql VOLATILE AS $pick$
BEGIN
    IF given_strategy = 'round_robin' THEN
        RETURN QUERY
WITH turn AS MATERIALIZED (
    SELECT rr_last_user_id AS last FROM leads_routingrule WHERE id = given_rule AND true FOR UPDATE
), free AS MATERIALIZED (
    SELECT f.lap, f.user_id, l.open_count, l.capacity, l.rank FROM (
        (SELECT 0 AS lap, s.user_id FROM leads_poolseat s CROSS JOIN LATERAL (SELECT FROM leads_repload l WHERE l.user_id = s.user_id AND l.open_count < l.capacity OFFSET 0) AS l
          WHERE s.pool = given_pool AND s.user_id > COALESCE((SELECT last FROM turn), -1)
            AND s.user_id <> ALL(given_exclude::bigint[])
          ORDER BY s.user_id LIMIT 3)
        UNION ALL
        (SELECT 1, s.user_id FROM leads_poolseat s CROSS JOIN LATERAL (SELECT FROM leads_repload l WHERE l.user_id = s.user_id AND l.open_count < l.capacity OFFSET 0) AS l
          WHERE s.pool = given_pool AND s.user_id <= (SELECT last FROM turn)
            AND s.user_id <> ALL(given_exclude::bigint[])
          ORDER BY s.user_id LIMIT 3)) AS f(lap, user_id)
      CROSS JOIN LATERAL (SELECT l.open_count, l.capacity, l.rank FROM leads_repload l WHERE l.user_id = f.user_id OFFSET 0) AS l
     ORDER BY f.lap, f.user_id LIMIT 3
), first AS (
    SELECT user_id FROM free ORDER BY lap, user_id LIMIT 1
), slot AS (
    UPDATE leads_repload l SET open_count = l.open_count + 1, capacity = m.capacity
      FROM first, org_member m
     WHERE l.user_id = first.user_id AND m.user_id = first.user_id AND l.open_count < m.capacity
    RETURNING l.user_id
), moved AS (
    UPDATE leads_routingrule r SET rr_last_user_id = slot.user_id FROM slot WHERE r.id = given_rule AND true
)
SELECT 'taken'::text, slot.user_id::bigint, nextval('leads_lead_id_seq'::regclass), nextval('leads_routingdecision_id_seq'::regclass), 0.0::float8 FROM slot
UNION ALL
SELECT 'free', user_id, open_count, capacity, rank FROM (SELECT * FROM free ORDER BY lap, user_id) AS ordered
UNION ALL
SELECT 'full', l.user_id, l.open_count, l.capacity, l.rank
  FROM leads_repload l CROSS JOIN LATERAL (SELECT FROM leads_poolseat s WHERE s.pool = given_pool AND s.user_id = l.user_id OFFSET 0) AS s
 WHERE l.open_count >= l.capacity
;
    ELSIF given_strategy = 'least_loaded' THEN
        RETURN QUERY
WITH turn AS MATERIALIZED (
    SELECT rr_last_user_id AS last FROM leads_routingrule WHERE id = given_rule AND false FOR UPDATE
), free AS MATERIALIZED (
    SELECT f.lap, f.user_id, l.open_count, l.capacity, l.rank FROM (
        SELECT row_number() OVER (ORDER BY (l.open_count::float8 / GREATEST(l.capacity, 1)), l.open_count, l.user_id),
               l.user_id
          FROM leads_repload l CROSS JOIN LATERAL (SELECT FROM leads_poolseat s WHERE s.pool = given_pool AND s.user_id = l.user_id OFFSET 0) AS s
         WHERE l.open_count < l.capacity AND l.user_id <> ALL(given_exclude::bigint[])
         ORDER BY (l.open_count::float8 / GREATEST(l.capacity, 1)), l.open_count, l.user_id LIMIT 3) AS f(lap, user_id)
      CROSS JOIN LATERAL (SELECT l.open_count, l.capacity, l.rank FROM leads_repload l WHERE l.user_id = f.user_id OFFSET 0) AS l
     ORDER BY f.lap, f.user_id LIMIT 3
), first AS (
    SELECT user_id FROM free ORDER BY lap, user_id LIMIT 1
), slot AS (
    UPDATE leads_repload l SET open_count = l.open_count + 1, capacity = m.capacity
      FROM first, org_member m
     WHERE l.user_id = first.user_id AND m.user_id = first.user_id AND l.open_count < m.capacity
    RETURNING l.user_id
), moved AS (
    UPDATE leads_routingrule r SET rr_last_user_id = slot.user_id FROM slot WHERE r.id = given_rule AND false
)
SELECT 'taken'::text, slot.user_id::bigint, nextval('leads_lead_id_seq'::regclass), nextval('leads_routingdecision_id_seq'::regclass), 0.0::float8 FROM slot
UNION ALL
SELECT 'free', user_id, open_count, capacity, rank FROM (SELECT * FROM free ORDER BY lap, user_id) AS ordered
UNION ALL
SELECT 'full', l.user_id, l.open_count, l.capacity, l.rank
  FROM leads_repload l CROSS JOIN LATERAL (SELECT FROM leads_poolseat s WHERE s.pool = given_pool AND s.user_id = l.user_id OFFSET 0) AS s
 WHERE l.open_count >= l.capacity
;
    ELSIF given_strategy = 'top_performer' THEN
        RETURN QUERY
WITH turn AS MATERIALIZED (
    SELECT rr_last_user_id AS last FROM leads_routingrule WHERE id = given_rule AND false FOR UPDATE
), free AS MATERIALIZED (
    SELECT f.lap, f.user_id, l.open_count, l.capacity, l.rank FROM (
        SELECT row_number() OVER (ORDER BY l.rank DESC, l.open_count, l.user_id), l.user_id
          FROM leads_repload l CROSS JOIN LATERAL (SELECT FROM leads_poolseat s WHERE s.pool = given_pool AND s.user_id = l.user_id OFFSET 0) AS s
         WHERE l.open_count < l.capacity AND l.user_id <> ALL(given_exclude::bigint[])
         ORDER BY l.rank DESC, l.open_count, l.user_id LIMIT 3) AS f(lap, user_id)
      CROSS JOIN LATERAL (SELECT l.open_count, l.capacity, l.rank FROM leads_repload l WHERE l.user_id = f.user_id OFFSET 0) AS l
     ORDER BY f.lap, f.user_id LIMIT 3
), first AS (
    SELECT user_id FROM free ORDER BY lap, user_id LIMIT 1
), slot AS (
    UPDATE leads_repload l SET open_count = l.open_count + 1, capacity = m.capacity
      FROM first, org_member m
     WHERE l.user_id = first.user_id AND m.user_id = first.user_id AND l.open_count < m.capacity
    RETURNING l.user_id
), moved AS (
    UPDATE leads_routingrule r SET rr_last_user_id = slot.user_id FROM slot WHERE r.id = given_rule AND false
)
SELECT 'taken'::text, slot.user_id::bigint, nextval('leads_lead_id_seq'::regclass), nextval('leads_routingdecision_id_seq'::regclass), 0.0::float8 FROM slot
UNION ALL
SELECT 'free', user_id, open_count, capacity, rank FROM (SELECT * FROM free ORDER BY lap, user_id) AS ordered
UNION ALL
SELECT 'full', l.user_id, l.open_count, l.capacity, l.rank
  FROM leads_repload l CROSS JOIN LATERAL (SELECT FROM leads_poolseat s WHERE s.pool = given_pool AND s.user_id = l.user_id OFFSET 0) AS s
 WHERE l.open_count >= l.capacity
;
    ELSE
        RAISE EXCEPTION 'leads_pool_pick: no pick for strategy %', given_strategy;
    END IF;
END
$pick$"""

CLAIM_FUNCTION_SQL = r"""
CREATE OR REPLACE FUNCTION leads_intake_claim(lock_keys bigint[], key_id bigint, replay_key text,
                                              given_external text, given_phone text, given_email text,
                                              pick_strategy text, pick_pool bigint, pick_rule bigint)
RETURNS TABLE (out_kind text, out_id bigint, out_first bigint, out_second bigint, out_rank float8, out_detail text)
LANGUAGE plpgsql VOLATILE AS $claim$
BEGIN
    PERFORM pg_advisory_xact_lock(k) FROM unnest(lock_keys) AS k ORDER BY k;
    IF key_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM leads_intakekey ik WHERE ik.id = key_id AND ik.revoked_at IS NULL
    ) THEN
        RETURN QUERY SELECT 'revoked', NULL::bigint, NULL::bigint, NULL::bigint, NULL::float8, NULL::text;
        RETURN;
    END IF;
    IF replay_key <> '' THEN
        RETURN QUERY SELECT 'replay', r.lead_id, NULL::bigint, NULL::bigint, NULL::float8, r.body_hash::text
                       FROM leads_idempotencyrecord r WHERE r.intake_key_id = key_id AND r.key = replay_key;
        IF FOUND THEN
            RETURN;
        END IF;
    END IF;
    -- Each condition restates its partial unique index's (leads_unique_*): a blank value finds
    -- nothing, and the function's kept (generic) plan can still use the three indexes.
    RETURN QUERY
        SELECT 'external_id', l.id, NULL::bigint, NULL::bigint, NULL::float8, NULL::text FROM leads_lead l
         WHERE l.external_id = given_external AND l.external_id <> ''
        UNION ALL
        SELECT 'phone', l.id, NULL, NULL, NULL, NULL FROM leads_lead l
         WHERE l.phone_normalized = given_phone AND l.phone_normalized <> '' AND l.merged_into_id IS NULL
        UNION ALL
        SELECT 'email', l.id, NULL, NULL, NULL, NULL FROM leads_lead l
         WHERE l.email_normalized = given_email AND l.email_normalized <> '' AND l.merged_into_id IS NULL;
    IF FOUND THEN
        RETURN;
    END IF;
    IF pick_strategy IS NULL THEN
        RETURN QUERY SELECT 'ids', NULL::bigint, nextval('leads_lead_id_seq'::regclass), nextval('leads_routingdecision_id_seq'::regclass), NULL::float8, NULL::text;
    ELSE
        RETURN QUERY SELECT p.out_kind, p.out_user, p.out_first, p.out_second, p.out_rank, NULL::text
                       FROM leads_pool_pick(pick_strategy, pick_pool, pick_rule, '{}'::bigint[]) AS p;
    END IF;
END
$claim$"""


class Migration(migrations.Migration):

    dependencies = [
        ('leads', '0019_routing_rule_fillfactor'),
    ]

    operations = [
        migrations.RunSQL(PICK_FUNCTION_SQL, "DROP FUNCTION IF EXISTS leads_pool_pick(text, bigint, bigint, bigint[])"),
        migrations.RunSQL(CLAIM_FUNCTION_SQL, "DROP FUNCTION IF EXISTS leads_intake_claim(bigint[], bigint, text, text, text, text, text, bigint, bigint)"),
    ]
