"""The SLA scan: traffic lights, golden-48h silence, stagnation, reminders, pool release.

Everything is set-based: a handful of statements per tenant whatever the number of
opportunities. Alerts are claimed in `SlaAlert` with INSERT … ON CONFLICT DO NOTHING
RETURNING inside the scan's transaction, and only the rows this run inserted are
notified (with the claim's key as notify's event_key, so the inbox and the outbox are
deduplicated on the same key). A second scan at the same clock, a redelivered task or a
scan racing another one therefore raises nothing twice; a scan that dies before commit
leaves no claim behind, so the next one raises the alert.
"""
import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass

from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from audit.services import audit_record
from leads.models import Lead
from leads.services import pool_release_expired
from salesflow import i18n
from salesflow.notifications.services import notify
from salesflow.org.models import Member

from ..models import Account, AlertKind, FollowUp, Light, Opportunity, SlaAlert, Task
from ..rules import policy_get
from ..workdays import tenant_calendar

logger = logging.getLogger(__name__)

OPP = Opportunity._meta.db_table
ACC = Account._meta.db_table
ALERT = SlaAlert._meta.db_table
TASK = Task._meta.db_table
FU = FollowUp._meta.db_table
LEAD = Lead._meta.db_table
HIGH_VALUE_GRADE = "A"


@dataclass(frozen=True)
class ScanResult:
    schema: str
    alerts: int
    green: int
    yellow: int
    red: int
    stagnant: int
    released: int

    def summary_line(self) -> str:
        return (
            f"sla scan {self.schema}: alerts={self.alerts} green={self.green} yellow={self.yellow} "
            f"red={self.red} stagnant={self.stagnant} released={self.released}"
        )


def _refresh_lights(cursor, *, now, policy) -> list[tuple[int, int, int]]:
    """Store each open opportunity's light; returns (id, old, new) for the rows that changed."""
    cursor.execute(
        f"""
        WITH calc AS (
            SELECT id, light AS old_light,
                   CASE WHEN next_due_at IS NULL OR %(now)s - next_due_at < %(yellow)s THEN {Light.GREEN}
                        WHEN %(now)s - next_due_at > %(red)s THEN {Light.RED}
                        ELSE {Light.YELLOW} END AS new_light
            FROM {OPP} WHERE is_open
        )
        UPDATE {OPP} o SET light = calc.new_light, light_changed_at = %(now)s
        FROM calc WHERE o.id = calc.id AND calc.old_light <> calc.new_light
        RETURNING o.id, calc.old_light, calc.new_light
        """,
        {"now": now, "yellow": dt.timedelta(days=policy.yellow_after_days), "red": dt.timedelta(days=policy.red_after_days)},
    )
    changed = cursor.fetchall()
    account_lights_refresh(cursor=cursor)
    return changed


def account_lights_refresh(*, cursor=None, account_ids=None) -> None:
    """A customer's light is the worst light of its open opportunities; "closed" only when none is open.

    The scan refreshes every customer; the services that change an opportunity's light or
    openness (follow-up, stage move, creation) refresh its customer at once, so a customer
    never reads "closed" while an open deal of theirs is late until the next scan."""
    if cursor is None:
        with connection.cursor() as own_cursor:
            return account_lights_refresh(cursor=own_cursor, account_ids=account_ids)
    only = "" if account_ids is None else "WHERE a.id = ANY(%(ids)s)"
    cursor.execute(
        f"""
        WITH worst AS (
            SELECT a.id, COALESCE(MAX(o.light) FILTER (WHERE o.is_open), {Light.NONE}) AS light
            FROM {ACC} a LEFT JOIN {OPP} o ON o.account_id = a.id {only} GROUP BY a.id
        )
        UPDATE {ACC} a SET light = worst.light FROM worst WHERE a.id = worst.id AND a.light <> worst.light
        """,
        {"ids": list(account_ids or [])},
    )


def _refresh_stagnation(cursor, *, cutoff) -> None:
    cursor.execute(
        f"""
        UPDATE {OPP} SET is_stagnant = (GREATEST(stage_entered_at, last_activity_at) < %(cutoff)s)
        WHERE is_open AND is_stagnant <> (GREATEST(stage_entered_at, last_activity_at) < %(cutoff)s)
        """,
        {"cutoff": cutoff},
    )


def _claim_alerts(cursor, *, now, policy) -> list[tuple]:
    """Claim every alert due at `now`; only rows not claimed before come back."""
    cursor.execute(
        f"""
        INSERT INTO {ALERT} (kind, object_id, lapse, opportunity_id, owner_id, raised_at)
        SELECT '{AlertKind.GOLDEN}', id, last_activity_at, id, owner_id, %(now)s FROM {OPP}
            WHERE is_open AND last_activity_at <= %(golden_cutoff)s
        UNION ALL
        SELECT '{AlertKind.RED}', id, next_due_at, id, owner_id, %(now)s FROM {OPP}
            WHERE is_open AND light = {Light.RED} AND next_due_at IS NOT NULL
        UNION ALL
        SELECT '{AlertKind.STAGNANT}', id, GREATEST(stage_entered_at, last_activity_at), id, owner_id, %(now)s
            FROM {OPP} WHERE is_open AND is_stagnant
        UNION ALL
        SELECT '{AlertKind.REMINDER}', t.id, t.due_at, t.opportunity_id, t.assignee_id, %(now)s
            FROM {TASK} t JOIN {OPP} o ON o.id = t.opportunity_id
            WHERE t.done_at IS NULL AND t.due_at <= %(now)s AND o.is_open
        UNION ALL
        SELECT '{AlertKind.FIRST_TOUCH}', id, assigned_at, NULL, owner_id, %(now)s FROM {LEAD}
            WHERE budget_grade = '{HIGH_VALUE_GRADE}' AND status IN ('assigned', 'accepted') AND owner_id IS NOT NULL
              AND first_touch_at IS NULL AND assigned_at <= %(first_touch_cutoff)s
        ON CONFLICT (kind, object_id, lapse) DO NOTHING
        RETURNING id, kind, object_id, lapse, opportunity_id, owner_id
        """,
        {"now": now, "golden_cutoff": now - dt.timedelta(hours=policy.golden_hours),
         "first_touch_cutoff": now - dt.timedelta(hours=policy.first_touch_hours)},
    )
    return cursor.fetchall()


def _counts(cursor) -> tuple[int, int, int, int]:
    cursor.execute(
        f"""
        SELECT count(*) FILTER (WHERE light = {Light.GREEN}), count(*) FILTER (WHERE light = {Light.YELLOW}),
               count(*) FILTER (WHERE light = {Light.RED}), count(*) FILTER (WHERE is_stagnant)
        FROM {OPP} WHERE is_open
        """
    )
    return cursor.fetchone()


def _last_summaries(opportunity_ids: list[int], *, limit: int = 3) -> dict[int, list[tuple]]:
    """The last `limit` follow-ups of each opportunity, in one query."""
    if not opportunity_ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT opportunity_id, occurred_at, kind, summary FROM (
                SELECT opportunity_id, occurred_at, kind, summary,
                       row_number() OVER (PARTITION BY opportunity_id ORDER BY occurred_at DESC, id DESC) AS n
                FROM {FU} WHERE opportunity_id = ANY(%s)
            ) recent WHERE n <= %s ORDER BY opportunity_id, occurred_at DESC
            """,
            [opportunity_ids, limit],
        )
        found = defaultdict(list)
        for opp_id, occurred_at, kind, summary in cursor.fetchall():
            found[opp_id].append((occurred_at, kind, summary))
    return found


def _alert_text(kind: str, opp: Opportunity, *, lapse, now, summaries) -> tuple[dict, dict]:
    """Title and body of an opportunity's alert, as stored messages (rendered in each reader's language)."""
    when = i18n.instant(lapse)
    if kind == AlertKind.GOLDEN:
        title = i18n.message("sla.golden.title", duration=i18n.seconds((now - lapse).total_seconds()), opp=opp.name)
        found = [
            i18n.nested(i18n.message("sla.golden.line", when=i18n.instant(at), kind=i18n.typed("followup_kind", kind_),
                                     summary=text[:140]))
            for at, kind_, text in summaries.get(opp.pk, [])
        ] or [i18n.nested(i18n.message("sla.golden.none"))]
        body = i18n.message("sla.golden.body", account=opp.account.name, when=when, lines=i18n.lines(*found))
    elif kind == AlertKind.STAGNANT:
        title = i18n.message("sla.stagnant.title", stage=i18n.typed("stage", opp.stage.code), opp=opp.name)
        body = i18n.message("sla.stagnant.body", account=opp.account.name, when=when)
    else:  # red, reminder
        title = i18n.message(f"sla.{kind}.title", opp=opp.name)
        body = i18n.message(f"sla.{kind}.body", account=opp.account.name, when=when)
    return title, body


def _recipients(kind: str, owner_id: int, manager_id: int | None) -> list[int]:
    if kind == AlertKind.STAGNANT:
        return [manager_id or owner_id]
    if kind == AlertKind.REMINDER:
        return [owner_id]
    return [owner_id] + ([manager_id] if manager_id and manager_id != owner_id else [])


def _announce(claimed: list[tuple], *, now) -> None:
    """Notify and audit each newly claimed alert (inside the scan's transaction)."""
    if not claimed:
        return
    opp_ids = sorted({row[4] for row in claimed if row[4] is not None})
    opps = Opportunity.objects.select_related("account", "stage").in_bulk(opp_ids)
    leads = Lead.objects.in_bulk([row[2] for row in claimed if row[1] == AlertKind.FIRST_TOUCH])
    managers = dict(
        Member.objects.filter(user_id__in={row[5] for row in claimed}).values_list("user_id", "team__manager_id")
    )
    summaries = _last_summaries([row[4] for row in claimed if row[1] == AlertKind.GOLDEN])
    for alert_id, kind, object_id, lapse, opp_id, owner_id in claimed:
        key = f"sla:{kind}:{object_id}:{lapse.isoformat()}"
        recipients = _recipients(kind, owner_id, managers.get(owner_id))
        if kind == AlertKind.FIRST_TOUCH:
            lead = leads[object_id]
            title = i18n.message("sla.first_touch.title", duration=i18n.seconds((now - lapse).total_seconds()),
                                 name=lead.company or lead.contact_name)
            body = i18n.message("sla.first_touch.body", when=i18n.instant(lapse))
            link, target_type, target_id, extra = reverse("leads:detail", args=[lead.pk]), "leads.lead", lead.pk, {}
        else:
            opp = opps[opp_id]
            title, body = _alert_text(kind, opp, lapse=lapse, now=now, summaries=summaries)
            link, target_type, target_id = reverse("followups:opportunity", args=[opp_id]), "followups.opportunity", opp_id
            extra = {"light": opp.light}
        notify(
            recipients=recipients, event_key=key, title=title, body=body, link=link, kind="alert",
            payload={"sla": kind, "object": object_id, "lapse": lapse.isoformat()},
        )
        audit_record(
            actor="sla_scan", verb=f"sla.{kind}", target_type=target_type, target_id=target_id,
            payload={"alert": alert_id, "key": key, "recipients": recipients, "scan_clock": now, "lapse": lapse,
                     **extra},
        )


def sla_scan(*, now: dt.datetime | None = None) -> ScanResult:
    """One tenant's scan at clock `now` (the current tenant of the connection)."""
    now = now or timezone.now()
    policy = policy_get()
    calendar = tenant_calendar()
    cutoff = calendar.cutoff_for(now, policy.stagnation_working_days)
    with transaction.atomic():
        with connection.cursor() as cursor:
            _refresh_lights(cursor, now=now, policy=policy)
            _refresh_stagnation(cursor, cutoff=cutoff)
            claimed = _claim_alerts(cursor, now=now, policy=policy)
            green, yellow, red, stagnant = _counts(cursor)
        _announce(claimed, now=now)
    # The leads area's 72-hour pool release (its own set-based UPDATE) runs in the same scan.
    released = pool_release_expired(now=now)
    return ScanResult(
        schema=connection.schema_name, alerts=len(claimed), green=green, yellow=yellow, red=red,
        stagnant=stagnant, released=released,
    )
