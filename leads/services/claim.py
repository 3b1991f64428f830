"""The opening of an intake in one round trip: its locks, its key, its replay, its duplicate and,
for a new lead, the first pick of its rep.

`leads_intake_claim` (a PL/pgSQL function in each tenant's schema, installed by migration
leads 0020) takes the intake's advisory locks in one global order, confirms the intake key is
still active, looks up the Idempotency-Key's record and the leads the submission repeats, and when
nothing repeats makes the routing's first pick (`leads_pool_pick`, leads.services.pick), or
reserves the new lead's and decision's ids when there is no pool to pick from. Each is a statement
of its own inside the function, so under READ COMMITTED it reads a snapshot taken after the locks
were granted: a twin submission that held them first and committed is seen. One call where there
were three statements (four with an Idempotency-Key).
"""
from dataclasses import dataclass, field

from django.db import connection

from ..models import IdempotencyRecord, IntakeKey, Lead
from .pick import RESERVE_IDS, Picked, PickRequest, picked_from

CLAIM_FUNCTION_SQL = f"""
CREATE OR REPLACE FUNCTION leads_intake_claim(lock_keys bigint[], key_id bigint, replay_key text,
                                              given_external text, given_phone text, given_email text,
                                              pick_strategy text, pick_pool bigint, pick_rule bigint)
RETURNS TABLE (out_kind text, out_id bigint, out_first bigint, out_second bigint, out_rank float8, out_detail text)
LANGUAGE plpgsql VOLATILE AS $claim$
BEGIN
    PERFORM pg_advisory_xact_lock(k) FROM unnest(lock_keys) AS k ORDER BY k;
    IF key_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM {IntakeKey._meta.db_table} ik WHERE ik.id = key_id AND ik.revoked_at IS NULL
    ) THEN
        RETURN QUERY SELECT 'revoked', NULL::bigint, NULL::bigint, NULL::bigint, NULL::float8, NULL::text;
        RETURN;
    END IF;
    IF replay_key <> '' THEN
        RETURN QUERY SELECT 'replay', r.lead_id, NULL::bigint, NULL::bigint, NULL::float8, r.body_hash::text
                       FROM {IdempotencyRecord._meta.db_table} r WHERE r.intake_key_id = key_id AND r.key = replay_key;
        IF FOUND THEN
            RETURN;
        END IF;
    END IF;
    -- Each condition restates its partial unique index's (leads_unique_*): a blank value finds
    -- nothing, and the function's kept (generic) plan can still use the three indexes.
    RETURN QUERY
        SELECT 'external_id', l.id, NULL::bigint, NULL::bigint, NULL::float8, NULL::text FROM {Lead._meta.db_table} l
         WHERE l.external_id = given_external AND l.external_id <> ''
        UNION ALL
        SELECT 'phone', l.id, NULL, NULL, NULL, NULL FROM {Lead._meta.db_table} l
         WHERE l.phone_normalized = given_phone AND l.phone_normalized <> '' AND l.merged_into_id IS NULL
        UNION ALL
        SELECT 'email', l.id, NULL, NULL, NULL, NULL FROM {Lead._meta.db_table} l
         WHERE l.email_normalized = given_email AND l.email_normalized <> '' AND l.merged_into_id IS NULL;
    IF FOUND THEN
        RETURN;
    END IF;
    IF pick_strategy IS NULL THEN
        RETURN QUERY SELECT 'ids', NULL::bigint, {RESERVE_IDS}, NULL::float8, NULL::text;
    ELSE
        RETURN QUERY SELECT p.out_kind, p.out_user, p.out_first, p.out_second, p.out_rank, NULL::text
                       FROM leads_pool_pick(pick_strategy, pick_pool, pick_rule, '{{}}'::bigint[]) AS p;
    END IF;
END
$claim$"""

DROP_CLAIM_FUNCTION_SQL = ("DROP FUNCTION IF EXISTS leads_intake_claim(bigint[], bigint, text, text, text, text, text, "
                           "bigint, bigint)")


class IntakeKeyRevoked(Exception):
    """The intake key was revoked after this request authenticated with it."""


@dataclass
class Claim:
    replay: tuple[int, str] | None = None  # the Idempotency-Key's earlier lead and body hash
    repeats: dict[str, int] = field(default_factory=dict)  # lead id by what matched: external_id, phone, email
    picked: Picked | None = None  # the first pick, when one was asked for and nothing repeats
    ids: tuple[int, int] | None = None  # reserved for the new lead and its decision when no pick was asked for


def intake_claim(*, lock_keys: list[int], intake_key: IntakeKey | None, idempotency_key: str, clean: dict,
                 pick: PickRequest | None) -> Claim:
    """Lock, check the key, find the replay or the repeated lead, else pick: one statement."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM leads_intake_claim(%s::bigint[], %s::bigint, %s::text, %s::text, %s::text, %s::text, "
                       "%s::text, %s::bigint, %s::bigint)", [
            sorted(set(lock_keys)), intake_key.pk if intake_key else None, idempotency_key or "",
            clean.get("external_id") or "", clean.get("phone_normalized") or "", clean.get("email_normalized") or "",
            *(pick or (None, None, None)),
        ])
        rows = cursor.fetchall()
    claim = Claim()
    pick_rows = []
    for kind, number, first, second, rank, detail in rows:
        if kind == "revoked":
            raise IntakeKeyRevoked(intake_key.prefix)
        if kind == "replay":
            claim.replay = (number, detail)
        elif kind == "ids":
            claim.ids = (first, second)
        elif kind in ("taken", "free", "full"):
            pick_rows.append((kind, number, first, second, rank))
        else:
            claim.repeats.setdefault(kind, number)
    if pick is not None and not (claim.replay or claim.repeats):
        claim.picked = picked_from(pick_rows)
    return claim
