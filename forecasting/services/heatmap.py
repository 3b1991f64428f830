"""The weekly target-deviation heatmap, Friday 17:00 tenant time.

Rows are the regions a manager answers for (every region for an admin), or their teams
when they direct no region; columns are the product lines with targets this month plus
"all lines". A cell is red, yellow or green by its deviation: attainment minus the share of
the month expected by now (working days, `periods.expected_share`), in percentage points,
against the tenant's thresholds (`TargetPolicy`).

Exactly once per ISO week and manager: each report is claimed as a `HeatmapReport` row with
INSERT … ON CONFLICT DO NOTHING RETURNING before anything is sent, and sent through
`notify` (in-app, e-mail, robots via the outbox) in the same transaction. A second run in
the same week, or one racing this one, claims nothing and sends nothing; the outbox keeps
what Redis could not take.
"""
import datetime as dt
import json
from dataclasses import dataclass

from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from audit.services import audit_record
from salesflow import i18n
from salesflow.notifications.services import notify
from salesflow.org.models import Member, Role
from salesflow.org.selectors import tenant_settings_get

from ..models_targets import HeatmapReport, PeriodKind, TargetLevel, TargetPolicy
from ..selectors.orgtree import OrgNode, reach_for
from ..selectors.targets import Calculator, board_context, product_lines_targeted
from .periods import Period, period_of

SEND_WEEKDAY = 4  # Friday
SEND_TIME = dt.time(17, 0)
HEATMAP = HeatmapReport._meta.db_table


def policy_get() -> TargetPolicy:
    return TargetPolicy.objects.get_or_create(pk=1)[0]


def band_for(deviation: float | None, policy: TargetPolicy) -> str:
    if deviation is None:
        return "none"
    if deviation >= policy.green_from:
        return "green"
    if deviation >= policy.yellow_from:
        return "yellow"
    return "red"


def iso_week(day: dt.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def heatmap_due(local_now: dt.datetime) -> bool:
    """From Friday 17:00 to the end of that ISO week (a run missed on Friday catches up at the weekend)."""
    if local_now.weekday() > SEND_WEEKDAY:
        return True
    return local_now.weekday() == SEND_WEEKDAY and local_now.time() >= SEND_TIME


@dataclass
class Grid:
    """One heatmap: rows of nodes, columns of product lines ("" = all lines), stored as plain data."""

    scope: str
    period: Period
    expected: float
    columns: list[str]
    rows: list[dict]
    green_from: int
    yellow_from: int

    def as_data(self) -> dict:
        return {
            "scope": self.scope, "period_kind": self.period.kind, "period_start": self.period.start.isoformat(),
            "expected": round(self.expected, 4), "columns": self.columns, "rows": self.rows,
            "green_from": self.green_from, "yellow_from": self.yellow_from,
        }


def heatmap_rows_for(reach) -> tuple[str, list[OrgNode]]:
    """(scope, row nodes) of a manager's heatmap."""
    if reach.is_admin:
        return "company", [n for n in reach.roots[0].walk() if n.level == TargetLevel.REGION]
    visible = [n for root in reach.roots for n in root.walk()]
    regions = [n for n in visible if n.level == TargetLevel.REGION]
    if regions:
        return "region", regions
    return "team", [n for n in visible if n.level == TargetLevel.TEAM]


def heatmap_grid(*, reach, period: Period, targets, won, expected: float, columns: list[str], policy) -> Grid:
    scope, nodes = heatmap_rows_for(reach)
    calculators = {line: Calculator(targets=targets, won=won, product_line=line) for line in columns}
    rows = []
    for node in nodes:
        cells = []
        for line in columns:
            calc = calculators[line]
            effective, done = calc.effective(node), calc.won_of(node)
            deviation = round((float(done / effective) - expected) * 100, 1) if effective else None
            cells.append({"target": str(effective) if effective is not None else None, "won": str(done),
                          "deviation": deviation, "band": band_for(deviation, policy)})
        rows.append({"level": node.level, "key": node.key, "name": node.name, "cells": cells})
    return Grid(scope=scope, period=period, expected=expected, columns=columns, rows=rows,
                green_from=policy.green_from, yellow_from=policy.yellow_from)


def heatmap_for_user(*, user, period: Period, today: dt.date) -> Grid:
    """The live heatmap of `user`'s scope (the page)."""
    tree, targets, won, expected = board_context(period=period, today=today)
    columns = ["", *product_lines_targeted(period)]
    return heatmap_grid(reach=reach_for(user, tree), period=period, targets=targets, won=won, expected=expected,
                        columns=columns, policy=policy_get())


def _deviation_text(value: float | None) -> str:
    return "—" if value is None else f"{value:+.1f}"


def heatmap_message(grid: Grid, *, week: str) -> tuple[dict, dict]:
    """Title and body as stored messages: rendered in each reader's language when read or sent."""
    def column(line: str):
        return i18n.nested(i18n.message("heatmap.all_lines")) if not line else i18n.typed("vocab", ["product_line", line])

    lines = []
    for row in grid.rows:
        cells = []
        for line, cell in zip(grid.columns, row["cells"], strict=True):
            if cell["band"] == "none":
                cells.append(i18n.nested(i18n.message("heatmap.cell.none", line=column(line))))
            else:
                cells.append(i18n.nested(i18n.message(
                    "heatmap.cell", line=column(line), band=i18n.nested(i18n.message(f"heatmap.band.{cell['band']}")),
                    deviation=_deviation_text(cell["deviation"]),
                )))
        lines.append(i18n.nested(i18n.message("heatmap.row", row=row["name"], cells=i18n.listing(cells))))
    if not lines:
        lines = [i18n.nested(i18n.message("heatmap.empty"))]
    title = i18n.message("heatmap.title", week=week, scope=i18n.nested(i18n.message(f"heatmap.scope.{grid.scope}")))
    body = i18n.message(
        "heatmap.body", period=grid.period.label, expected=round(grid.expected * 100), lines=i18n.lines(*lines),
        green=grid.green_from, yellow=grid.yellow_from,
    )
    return title, body


def _recipients() -> list[tuple]:
    """(user, role) of the admins and managers: those who answer for a region or a team get a heatmap."""
    members = Member.objects.select_related("user").filter(role__in=[Role.ADMIN, Role.MANAGER], user__is_active=True)
    return [(m.user, m.role) for m in members.order_by("user_id")]


def _claim(week: str, grids: dict[int, Grid], *, now) -> list[tuple[int, int]]:
    """Insert one report row per recipient; only rows not claimed before come back as (id, recipient)."""
    if not grids:
        return []
    recipient_ids = list(grids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {HEATMAP} (iso_week, recipient_id, scope, period_start, cells, sent_at)
            SELECT %s, r.id, r.scope, %s, r.cells::jsonb, %s
            FROM unnest(%s::bigint[], %s::text[], %s::text[]) AS r(id, scope, cells)
            ON CONFLICT (iso_week, recipient_id) DO NOTHING
            RETURNING id, recipient_id
            """,
            [week, next(iter(grids.values())).period.start, now, recipient_ids,
             [grids[r].scope for r in recipient_ids], [json.dumps(grids[r].as_data()) for r in recipient_ids]],
        )
        return cursor.fetchall()


def send_due_heatmaps(now: dt.datetime | None = None) -> int:
    """Send this week's heatmap to every manager of the current tenant who has not had it; the number sent."""
    now = now or timezone.now()
    tenant = tenant_settings_get()
    local_now = now.astimezone(tenant.tzinfo)
    if not heatmap_due(local_now):
        return 0
    week = iso_week(local_now.date())
    already = set(HeatmapReport.objects.filter(iso_week=week).values_list("recipient_id", flat=True))
    users = [(user, role) for user, role in _recipients() if user.pk not in already]
    if not users:
        return 0
    period = period_of(PeriodKind.MONTH, local_now.date())
    tree, targets, won, expected = board_context(period=period, today=local_now.date())
    columns = ["", *product_lines_targeted(period)]
    policy = policy_get()
    grids = {}
    for user, role in users:
        reach = reach_for(user, tree, role=role)
        if reach.roots:
            grids[user.pk] = heatmap_grid(reach=reach, period=period, targets=targets, won=won, expected=expected,
                                          columns=columns, policy=policy)
    with transaction.atomic():
        claimed = _claim(week, grids, now=now)
        for report_id, recipient_id in claimed:
            title, body = heatmap_message(grids[recipient_id], week=week)
            notify(
                recipients=[recipient_id], event_key=f"heatmap:{week}:{recipient_id}", title=title, body=body,
                link=reverse("targets:heatmap") + f"?report={report_id}", kind="report",
                payload={"heatmap": report_id, "week": week},
            )
        if claimed:
            audit_record(
                actor="weekly_reports", verb="heatmap.sent", target_type="forecasting.heatmapreport",
                target_id=claimed[0][0],
                payload={"week": week, "period": period.label, "reports": [r for r, _ in claimed],
                         "recipients": [u for _, u in claimed], "clock": now},
            )
    return len(claimed)
