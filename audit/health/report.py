"""The weekly health report: Monday 08:00 tenant time, to each manager, exactly once per ISO week.

Each manager's report is claimed in `WeeklyHealthReport` (unique per manager and ISO week) with
INSERT … ON CONFLICT DO NOTHING RETURNING, in the same transaction as its in-app notification,
its delivery outbox rows (e-mail, DingTalk, WeCom; `notify`) and its audit entry. A second run
at the same clock, beat racing the command, or a redelivered task finds the claim and sends
nothing; a run killed before commit leaves nothing claimed, so the next run sends it. After
commit the outbox carries it like the SLA alerts: a broker that is down leaves the deliveries
pending for the minute sweep, a worker killed mid-send is re-sent after its lease.

The figures are those of the 30 days before Monday 08:00, compared with the 30 days before the
previous Monday 08:00: a run that catches up later in the week reports the same numbers.
"""
import datetime as dt
import json
from dataclasses import dataclass

from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from audit.models import WeeklyHealthReport
from audit.services import audit_record
from salesflow import i18n
from salesflow.notifications.services import notify
from salesflow.org.models import Member, Role
from salesflow.org.scoping import visible_user_ids
from salesflow.org.selectors import tenant_settings_get

from .figures import REP, SCOPE, Figures, Thresholds, scopes_figures_count
from .periods import rolling
from .selectors import opportunities_lacking_key_touches_by_scope

REPORT_HOUR = 8
LISTED = 5  # reps and customers named per report: robots cap a message at 4 KB (WeCom)
REPORT = WeeklyHealthReport._meta.db_table


def report_due_at(now: dt.datetime, *, tz) -> dt.datetime:
    """Monday 08:00 (tenant time) of the ISO week `now` falls in."""
    local = now.astimezone(tz)
    monday = local.date() - dt.timedelta(days=local.weekday())
    return dt.datetime.combine(monday, dt.time(REPORT_HOUR), tzinfo=tz)


@dataclass
class ManagerReport:
    manager_id: int
    scope_size: int
    current: Figures
    previous: Figures
    below: list[tuple[str, list[str]]]
    uncovered_total: int
    uncovered: list


def manager_reports(managers: list[Member], *, clock: dt.datetime, limits: Thresholds) -> list[ManagerReport]:
    """Every manager's report at once: a handful of statements per tenant, whatever the number of managers."""
    people = {user_id: (name, role) for user_id, name, role in Member.objects.values_list("user_id", "full_name", "role")}
    scopes = {}
    for manager in managers:
        manager.user._member_cache = manager  # scoping's per-request memo: the row is at hand
        visible = visible_user_ids(manager.user)
        scopes[manager.user_id] = sorted(people if visible is None else visible & people.keys())
    current, previous = rolling(clock), rolling(clock - dt.timedelta(days=7))
    counted = scopes_figures_count(scopes=scopes, periods=[current, previous], now=clock)
    uncovered = opportunities_lacking_key_touches_by_scope(scopes=scopes, period=current, limit=LISTED)
    reports = []
    for manager in managers:
        scope = manager.user_id
        below = []
        for user_id in scopes[scope]:
            name, role = people[user_id]
            failing = counted.get(REP, user_id, 0, scope=scope).below(limits)
            if role == Role.REP and failing:
                below.append((name, failing))
        total, rows = uncovered.get(scope, (0, []))
        reports.append(ManagerReport(scope, len(scopes[scope]), counted.get(SCOPE, None, 0, scope=scope),
                                     counted.get(SCOPE, None, 1, scope=scope), sorted(below), total, rows))
    return reports


def _mark(ok: bool | None) -> dict:
    return i18n.message({True: "health.weekly.healthy", False: "health.weekly.unhealthy", None: "health.weekly.no_data"}[ok])


def _number(value) -> str:
    return "—" if value is None else f"{value:g}"


def _duration(seconds):
    return "—" if seconds is None else i18n.seconds(seconds)


def report_message(report: ManagerReport, *, limits: Thresholds, week: str, whole_tenant: bool) -> tuple[dict, dict]:
    """Title and body as stored messages: figures vs healthy and last week, reps below, customers uncovered."""
    verdicts = report.current.verdicts(limits)
    figures = i18n.lines(
        i18n.nested(i18n.message("health.weekly.density", value=_number(report.current.density),
                                 limit=_number(float(limits.density_min)), previous=_number(report.previous.density),
                                 mark=i18n.nested(_mark(verdicts["density"])))),
        i18n.nested(i18n.message("health.weekly.depth", value=_number(report.current.depth),
                                 limit=_number(float(limits.depth_min)), previous=_number(report.previous.depth),
                                 mark=i18n.nested(_mark(verdicts["depth"])))),
        i18n.nested(i18n.message("health.weekly.timeliness", value=_duration(report.current.median_seconds),
                                 limit=_number(float(limits.first_touch_hours_max)),
                                 previous=_duration(report.previous.median_seconds),
                                 mark=i18n.nested(_mark(verdicts["timeliness"])))),
    )
    reps = [
        i18n.nested(i18n.message("health.weekly.rep", name=name,
                                 figures=i18n.listing([i18n.nested(i18n.message(f"health.figure.{f}")) for f in failing])))
        for name, failing in report.below[:LISTED]
    ]
    if len(report.below) > LISTED:
        reps.append(i18n.nested(i18n.message("health.weekly.more", count=len(report.below) - LISTED)))
    customers = [
        i18n.nested(i18n.message(
            "health.weekly.customer", account=row.account, opportunity=row.opportunity, owner=row.owner,
            people=i18n.listing(row.untouched) if row.key_people else i18n.nested(i18n.message("health.weekly.no_key_people")),
        ))
        for row in report.uncovered
    ]
    if report.uncovered_total > len(report.uncovered):
        customers.append(i18n.nested(i18n.message("health.weekly.more", count=report.uncovered_total - len(report.uncovered))))
    none = i18n.nested(i18n.message("health.weekly.none"))
    scope = i18n.message("health.weekly.scope_all") if whole_tenant else i18n.message(
        "health.weekly.scope_people", count=report.scope_size)
    title = i18n.message("health.weekly.title", week=week, scope=i18n.nested(scope))
    body = i18n.message(
        "health.weekly.body", figures=figures, below_count=len(report.below), reps=i18n.lines(*reps) if reps else none,
        uncovered_count=report.uncovered_total, customers=i18n.lines(*customers) if customers else none,
    )
    return title, body


def _claim(*, reports: dict[int, dict], year: int, week: int, now: dt.datetime) -> dict[int, int]:
    """Claim each manager's report of the week; {manager id: claim id} for those not claimed before."""
    managers = list(reports)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {REPORT} (manager_id, iso_year, iso_week, claimed_at, figures)
            SELECT m, %s, %s, %s, f FROM unnest(%s::bigint[], %s::jsonb[]) AS r(m, f)
            ON CONFLICT (manager_id, iso_year, iso_week) DO NOTHING RETURNING manager_id, id
            """,
            [year, week, now, managers, [json.dumps(reports[m], default=str) for m in managers]],
        )
        return dict(cursor.fetchall())


def report_managers() -> list[Member]:
    return list(Member.objects.select_related("user").filter(role=Role.MANAGER, user__is_active=True).order_by("user_id"))


def send_due_health_reports(*, now: dt.datetime | None = None) -> int:
    """Send every weekly health report of the current tenant due at `now` and not sent yet; returns
    how many this call sent."""
    now = now or timezone.now()
    settings = tenant_settings_get()
    clock = report_due_at(now, tz=settings.tzinfo)
    if now < clock:
        return 0
    year, week, _ = clock.date().isocalendar()
    done = set(WeeklyHealthReport.objects.filter(iso_year=year, iso_week=week).values_list("manager_id", flat=True))
    limits = Thresholds.of(settings)
    link = reverse("health:board")
    managers = [m for m in report_managers() if m.user_id not in done]
    if not managers:
        return 0
    label = f"{year}-W{week:02d}"
    messages, figures = {}, {}
    for member, report in zip(managers, manager_reports(managers, clock=clock, limits=limits)):
        figures[member.user_id] = {"current": report.current.as_dict(), "previous": report.previous.as_dict(),
                                   "below": report.below, "uncovered": report.uncovered_total,
                                   "window_end": clock.isoformat()}
        messages[member.user_id] = report_message(report, limits=limits, week=label,
                                                  whole_tenant=visible_user_ids(member.user) is None)
    # One transaction for the tenant's week: the claims, and for each report this run claimed its
    # notification, outbox rows and audit entry. A run racing this one waits on the claims' unique
    # index and then finds them taken.
    with transaction.atomic():
        claims = _claim(reports=figures, year=year, week=week, now=now)
        for manager_id, claim in sorted(claims.items()):
            title, body = messages[manager_id]
            notify(recipients=[manager_id], event_key=f"health:weekly:{label}:{manager_id}", title=title, body=body,
                   link=link, kind="info", markdown=True, payload={"report": claim, "week": label})
            audit_record(actor="weekly_reports", verb="health.weekly_report", target_type="auth.user",
                         target_id=manager_id, payload={"report": claim, "week": label, **figures[manager_id]}, at=now)
    return len(claims)
