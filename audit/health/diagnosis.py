"""The rep diagnosis ("in 3 seconds", seed 002): one rep against their team — how far their
opportunities get through each stage, first-touch timeliness, depth, and the customers most at risk."""
import datetime as dt
from dataclasses import dataclass

from django.db import connection

from followups.messages import stage_label
from followups.models import Stage, StageChange

from .figures import ACCOUNT, CONTACT, FU, FU_CONTACTS, OPP, SCOPE, Figures, figures_count
from .periods import Period, rolling

FUNNEL_DAYS = 180
STAGE = Stage._meta.db_table
CHANGE = StageChange._meta.db_table


@dataclass
class FunnelStep:
    code: str
    rep_reached: int
    team_reached: int
    rep_rate: float | None  # share of those who reached this stage that reached the next one
    team_rate: float | None

    @property
    def name(self) -> str:
        return stage_label(self.code)

    @property
    def gap(self) -> float | None:
        if self.rep_rate is None or self.team_rate is None:
            return None
        return round(self.rep_rate - self.team_rate, 1)


def funnel_compare(*, rep_id: int, team_ids: list[int], since: dt.datetime) -> list[FunnelStep]:
    """Per open stage (then won): opportunities created since `since` that reached it, for the rep and
    the team, and the share that went on to the next stage. "Reached" is the furthest open stage
    an opportunity was ever in (its stage history), every stage for a won one."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH opp AS (
                SELECT o.id, o.owner_id, s.outcome, s.position FROM {OPP} o JOIN {STAGE} s ON s.id = o.stage_id
                WHERE o.owner_id = ANY(%(team)s) AND o.created_at >= %(since)s
            ), history AS (
                SELECT sc.opportunity_id, max(st.position) AS furthest
                FROM {CHANGE} sc JOIN {STAGE} st ON st.id IN (sc.to_stage_id, sc.from_stage_id)
                WHERE st.outcome = 'open' AND sc.opportunity_id IN (SELECT id FROM opp)
                GROUP BY sc.opportunity_id
            ), reached AS (
                SELECT opp.id, opp.owner_id,
                       CASE WHEN opp.outcome = 'won' THEN 32767
                            ELSE GREATEST(CASE WHEN opp.outcome = 'open' THEN opp.position END, h.furthest,
                                          (SELECT min(position) FROM {STAGE} WHERE outcome = 'open')) END AS furthest
                FROM opp LEFT JOIN history h ON h.opportunity_id = opp.id
            )
            SELECT s.code, s.position,
                   count(r.id) FILTER (WHERE r.owner_id = %(rep)s AND r.furthest >= s.position),
                   count(r.id) FILTER (WHERE r.furthest >= s.position)
            FROM {STAGE} s LEFT JOIN reached r ON TRUE
            WHERE s.outcome IN ('open', 'won')
            GROUP BY s.id ORDER BY s.outcome = 'won', s.position
            """,
            {"team": list(team_ids), "rep": rep_id, "since": since},
        )
        rows = cursor.fetchall()
    steps = []
    for index, (code, _position, rep_n, team_n) in enumerate(rows):
        following = rows[index + 1] if index + 1 < len(rows) else None
        steps.append(FunnelStep(
            code=code, rep_reached=rep_n, team_reached=team_n,
            rep_rate=round(100 * following[2] / rep_n, 1) if following and rep_n else None,
            team_rate=round(100 * following[3] / team_n, 1) if following and team_n else None,
        ))
    return steps


@dataclass
class AtRisk:
    account_id: int
    account: str
    opportunity_id: int
    opportunity: str
    amount: object
    light: int
    is_stagnant: bool
    untouched_key_people: int
    key_people: int
    last_activity_at: dt.datetime


def customers_at_risk(*, rep_id: int, period: Period, limit: int = 3) -> list[AtRisk]:
    """The rep's open opportunities most at risk, one per customer: worst light, then most key people
    left untouched in `period`, then longest silence, then the biggest amount."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH opp AS (
                SELECT o.id, o.name, o.account_id, o.amount, o.light, o.is_stagnant, o.last_activity_at
                FROM {OPP} o WHERE o.owner_id = %(rep)s AND o.is_open
            ), chain AS (
                SELECT c.account_id, count(*) AS key_people,
                       count(*) FILTER (WHERE NOT EXISTS (
                           SELECT 1 FROM {FU_CONTACTS} fc JOIN {FU} f ON f.id = fc.followup_id
                           WHERE fc.contact_id = c.id AND f.occurred_at >= %(s)s AND f.occurred_at < %(e)s
                             AND f.corrects_id IS NULL)) AS untouched
                FROM {CONTACT} c WHERE c.is_key_person AND c.account_id IN (SELECT account_id FROM opp)
                GROUP BY c.account_id
            ), ranked AS (
                SELECT DISTINCT ON (opp.account_id) opp.account_id, a.name AS account, opp.id, opp.name, opp.amount,
                       opp.light, opp.is_stagnant, COALESCE(chain.untouched, 0) AS untouched,
                       COALESCE(chain.key_people, 0) AS key_people, opp.last_activity_at
                FROM opp JOIN {ACCOUNT} a ON a.id = opp.account_id LEFT JOIN chain ON chain.account_id = opp.account_id
                ORDER BY opp.account_id, opp.light DESC, opp.amount DESC
            )
            SELECT * FROM ranked
            ORDER BY light DESC, (key_people = 0 OR untouched > 0) DESC, untouched DESC, last_activity_at, amount DESC
            LIMIT %(limit)s
            """,
            {"rep": rep_id, "s": period.start, "e": period.end, "limit": limit},
        )
        return [AtRisk(*row) for row in cursor.fetchall()]


@dataclass
class Diagnosis:
    period: Period
    rep: Figures
    team: Figures
    funnel: list[FunnelStep]
    at_risk: list[AtRisk]


def rep_diagnose(*, rep_id: int, team_ids: list[int], now: dt.datetime) -> Diagnosis:
    period = rolling(now)
    team_ids = sorted(set(team_ids) | {rep_id})
    counted = figures_count(user_ids=team_ids, periods=[period], now=now)
    return Diagnosis(
        period=period, rep=counted.get("rep", rep_id, 0), team=counted.get(SCOPE, None, 0),
        funnel=funnel_compare(rep_id=rep_id, team_ids=team_ids, since=now - dt.timedelta(days=FUNNEL_DAYS)),
        at_risk=customers_at_risk(rep_id=rep_id, period=period),
    )
