"""The direct count: the attribution page's first counting statement, which read every follow-up
and contact touched of the picked deals on each request (1.7 s over 100,000 deals on a quiet
machine). The page now counts the closed-deal summaries (`selectors.attribution_count`); this
stays as the reference the tests and the benchmark hold the summaries to.

Beyond the original it also returns the four-way cells (channel | first touch | action
combination | coverage) of the cross view, as 'cell' rows.
"""
from django.db import connection, transaction
from django.db.models import QuerySet

from followups.models import ActionKey, ContactRole, FollowUpKind, Opportunity, Outcome, Stage
from salesflow.org.scoping import scope_by_owner

from .selectors import CELL, COMBINATION, _positional


def closed_opportunities(*, user) -> QuerySet[Opportunity]:
    """Won and lost opportunities whose owners `user` may see (what the direct count reads)."""
    closing = list(Stage.objects.filter(outcome__in=[Outcome.WON, Outcome.LOST]).values_list("pk", flat=True))
    return scope_by_owner(Opportunity.objects.filter(is_open=False, stage_id__in=closing).order_by(), user)

# The statement reads the filtered deals from the FilterSet's own query (`picked`), then:
# deal      one row per deal on either side: won?, on the left / right side (the region of the
#           owner's team, else the owner's own, within the picked region's subtree), window end;
# touch     its follow-ups inside the window (corrections excluded: the original counts once);
# summary   one row per deal: first touch kind, action kinds and roles touched (as bit sets),
#           key people touched against the chain's key people;
# trait     the summary unrolled to (dimension, code) rows, counted per side, won and lost.
# Everything is hash joins and hash aggregates (bit sets instead of DISTINCT/ORDER BY inside
# aggregates, which would sort), so the cost grows with the deals and their follow-ups.
_COUNT_SQL = """
WITH RECURSIVE
side_region(side, region_id) AS (
    SELECT side, region_id FROM (VALUES (0, %(left)s::bigint), (1, %(right)s::bigint)) v(side, region_id)
    WHERE region_id IS NOT NULL
    UNION
    SELECT sr.side, r.id FROM org_region r JOIN side_region sr ON r.parent_id = sr.region_id
),
picked AS ({picked}),
placed AS (
    SELECT o.id, o.account_id, st.outcome = 'won' AS won, COALESCE(t.region_id, m.region_id) AS region_id,
           LEAST(o.created_at + make_interval(days => %(window)s), o.stage_entered_at) AS cutoff,
           COALESCE(l.channel, '') AS channel
    FROM followups_opportunity o
    JOIN picked p ON p.id = o.id
    JOIN followups_stage st ON st.id = o.stage_id
    LEFT JOIN org_member m ON m.user_id = o.owner_id
    LEFT JOIN org_team t ON t.id = m.team_id
    LEFT JOIN leads_lead l ON l.id = o.source_lead_id
),
deal AS MATERIALIZED (
    SELECT * FROM (
        SELECT id, account_id, won, cutoff, channel,
               %(left)s::bigint IS NULL
                   OR COALESCE(region_id IN (SELECT region_id FROM side_region WHERE side = 0), false) AS on_left,
               COALESCE(region_id IN (SELECT region_id FROM side_region WHERE side = 1), false) AS on_right
        FROM placed
    ) sided
    WHERE on_left OR on_right
),
touch AS MATERIALIZED (
    SELECT f.id, f.opportunity_id AS deal_id, f.kind, f.action, f.template_id, f.occurred_at
    FROM followups_followup f JOIN deal d ON d.id = f.opportunity_id
    WHERE f.corrects_id IS NULL AND f.occurred_at <= d.cutoff
),
touch_summary AS (
    -- The first touch's kind rides along in one number: microseconds since 1970, times 8, plus
    -- the kind's position; the smallest is the earliest (at the same microsecond, the kind listed first).
    SELECT deal_id, bit_or(1 << (array_position(%(actions)s::text[], action::text) - 1)) AS actions,
           min((extract(epoch FROM occurred_at) * 1000000)::bigint * 8
               + array_position(%(kinds)s::text[], kind::text)) %% 8 AS first_kind
    FROM touch GROUP BY deal_id
),
touched AS (
    SELECT deal_id, bit_or(1 << (array_position(%(roles)s::text[], role::text) - 1)) AS roles,
           count(*) FILTER (WHERE is_key_person) AS key_touched
    FROM (
        SELECT DISTINCT t.deal_id, c.id, c.role, c.is_key_person
        FROM touch t
        JOIN followups_followup_contacts fc ON fc.followup_id = t.id
        JOIN followups_contact c ON c.id = fc.contact_id
    ) people
    GROUP BY deal_id
),
key_people AS (
    SELECT c.account_id, count(*) AS n FROM followups_contact c
    WHERE c.is_key_person AND c.account_id IN (SELECT account_id FROM deal)
    GROUP BY c.account_id
),
summary AS MATERIALIZED (
    SELECT d.won, d.on_left, d.on_right, d.channel,
           COALESCE((%(kinds)s::text[])[ts.first_kind], '') AS first_kind,
           COALESCE(ts.actions, 0) AS actions,
           COALESCE(tc.roles, 0) AS roles,
           COALESCE(tc.key_touched, 0) AS key_touched,
           CASE WHEN kp.n IS NULL THEN 'no_chain'
                WHEN COALESCE(tc.key_touched, 0) = 0 THEN 'none'
                WHEN tc.key_touched >= kp.n THEN 'all'
                ELSE 'some' END AS coverage
    FROM deal d
    LEFT JOIN touch_summary ts ON ts.deal_id = d.id
    LEFT JOIN touched tc ON tc.deal_id = d.id
    LEFT JOIN key_people kp ON kp.account_id = d.account_id
),
trait(won, on_left, on_right, dimension, code) AS (
    SELECT s.won, s.on_left, s.on_right, 'role', r.code FROM summary s
    JOIN unnest(%(roles)s::text[]) WITH ORDINALITY r(code, bit) ON s.roles & (1 << (r.bit::int - 1)) <> 0
    UNION ALL
    SELECT won, on_left, on_right, 'role', '*key' FROM summary WHERE key_touched > 0
    UNION ALL
    SELECT s.won, s.on_left, s.on_right, 'action', a.code FROM summary s
    JOIN unnest(%(actions)s::text[]) WITH ORDINALITY a(code, bit) ON s.actions & (1 << (a.bit::int - 1)) <> 0
    UNION ALL
    SELECT d.won, d.on_left, d.on_right, 'template', dt.template_id::text
    FROM (SELECT DISTINCT deal_id, template_id FROM touch WHERE template_id IS NOT NULL) dt
    JOIN deal d ON d.id = dt.deal_id
    UNION ALL SELECT won, on_left, on_right, 'channel', channel FROM summary
    UNION ALL SELECT won, on_left, on_right, 'first_touch', first_kind FROM summary
    UNION ALL SELECT won, on_left, on_right, 'combination', actions::text FROM summary
    UNION ALL SELECT won, on_left, on_right, 'coverage', coverage FROM summary
    UNION ALL SELECT won, on_left, on_right, '', '' FROM summary
    UNION ALL SELECT won, on_left, on_right, 'cell', channel || '|' || first_kind || '|' || actions::text || '|' || coverage
    FROM summary
)
SELECT dimension, code,
       count(*) FILTER (WHERE on_left AND won), count(*) FILTER (WHERE on_left AND NOT won),
       count(*) FILTER (WHERE on_right AND won), count(*) FILTER (WHERE on_right AND NOT won)
FROM trait GROUP BY dimension, code
"""
# The bit of each action kind and decision role in the bit sets above.
_ACTIONS = [action for action in ActionKey.values if action != ActionKey.TOUCH]
_ROLES = list(ContactRole.values)
_KINDS = list(FollowUpKind.values)  # at most 7: the first touch's position is kept in 3 bits


def _combination(bits: str) -> str:
    """A combination's bit set as its action codes, "demo+quote"; "" for touches only."""
    mask = int(bits)
    return "+".join(action for bit, action in enumerate(_ACTIONS) if mask & (1 << bit))


def _picked_sql(deals: QuerySet) -> tuple[str, list]:
    compiler = deals.order_by().values("id").query.get_compiler(connection=connection)
    return compiler.as_sql()


def attribution_count_direct(*, deals: QuerySet, left_region_id: int | None, right_region_id: int | None,
                      window_days: int) -> dict[int, tuple[int, int, dict[tuple[str, str], tuple[int, int]]]]:
    """Per side (0 = left, 1 = right when a right region is given): won, lost and, per
    (dimension, code), the won and lost deals having it. One statement."""
    picked, picked_params = _picked_sql(deals)
    # The FilterSet's SQL uses positional %s; the rest of the statement is written with names,
    # so the names are turned into positions here, in the order they appear.
    named = {"left": left_region_id, "right": right_region_id, "window": window_days,
             "actions": _ACTIONS, "roles": _ROLES, "kinds": _KINDS}
    sql, params = _positional(_COUNT_SQL, named, picked, picked_params)
    with transaction.atomic(), connection.cursor() as cursor:
        # The planner's row guesses for the unrolled traits run into the millions, past the
        # point where PostgreSQL compiles the plan with LLVM: seconds of compiling for a
        # statement that runs in a fraction of one. Off for this statement only.
        # work_mem: the touches of 100,000 deals are hashed in memory rather than spilled to disk.
        cursor.execute("SELECT set_config('jit', 'off', true), set_config('work_mem', '64MB', true)")
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    result: dict[int, tuple[int, int, dict]] = {}
    for side in (0, 1):
        totals = next(((row[2 + 2 * side], row[3 + 2 * side]) for row in rows if row[0] == ""), (0, 0))
        counts = {
            (row[0], _code(row[0], row[1])): (row[2 + 2 * side], row[3 + 2 * side])
            for row in rows if row[0]
        }
        result[side] = (*totals, {key: value for key, value in counts.items() if value != (0, 0)})
    return result


def _code(dimension: str, code: str) -> str:
    if dimension == COMBINATION:
        return _combination(code)
    if dimension == CELL:
        channel, first_kind, actions, coverage = code.split("|")
        return "|".join((channel, first_kind, _combination(actions), coverage))
    return code
