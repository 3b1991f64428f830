"""The weekly target-deviation heatmap, Friday 17:00 tenant time.

Rows are the regions a manager answers for (every region for an admin), or their teams
when they direct no region; columns are the product lines with targets in the period plus
"all lines". The Friday report carries two maps, the month and the quarter (SPEC: targets per
month / quarter), in one message per manager; when both in full would not fit a WeCom robot's
4 KB, the message keeps only the cells off track, then only the counts per band (the page the
message links to always has everything). A cell is red, yellow or green by its deviation: attainment minus the share of
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


# What a message may weigh, rendered in either language: a WeCom markdown robot takes 4096 bytes, title,
# link and reference included (DingTalk takes 20000, e-mail and in-app more); room is kept for those.
MESSAGE_BUDGET_BYTES = 3400


def _column(line: str):
    return i18n.nested(i18n.message("heatmap.all_lines")) if not line else i18n.typed("vocab", ["product_line", line])


def _cell_text(line: str, cell: dict):
    if cell["band"] == "none":
        return i18n.nested(i18n.message("heatmap.cell.none", line=_column(line)))
    return i18n.nested(i18n.message(
        "heatmap.cell", line=_column(line), band=i18n.nested(i18n.message(f"heatmap.band.{cell['band']}")),
        deviation=_deviation_text(cell["deviation"]),
    ))


def _grid_lines(grid: Grid, detail: str, limit: int | None = None) -> list:
    if not grid.rows:
        return [i18n.nested(i18n.message("heatmap.empty"))]
    if detail == "counts":
        bands = [cell["band"] for row in grid.rows for cell in row["cells"]]
        return [i18n.nested(i18n.message("heatmap.counts", red=bands.count("red"), yellow=bands.count("yellow"),
                                          green=bands.count("green")))]
    lines = []
    for row in grid.rows:
        pairs = zip(grid.columns, row["cells"], strict=True)
        if detail == "off_track":
            pairs = [(line, cell) for line, cell in pairs if cell["band"] in ("red", "yellow")]
            if not pairs:
                continue
        lines.append(i18n.nested(i18n.message(
            "heatmap.row", row=row["name"], cells=i18n.listing([_cell_text(line, cell) for line, cell in pairs]))))
    if not lines:
        return [i18n.nested(i18n.message("heatmap.all_on_track"))]
    if limit is not None and len(lines) > limit:
        lines = [*lines[:limit], i18n.nested(i18n.message("heatmap.more_rows", n=len(lines) - limit))]
    return lines


def _grid_section(grid: Grid, detail: str, limit: int | None = None) -> dict:
    return i18n.message(
        "heatmap.section", kind=i18n.nested(i18n.message(f"heatmap.kind.{grid.period.kind}")),
        period=grid.period.label, expected=round(grid.expected * 100),
        lines=i18n.lines(*_grid_lines(grid, detail, limit)),
    )


def _body(grids: list[Grid], detail: str, limit: int | None = None) -> dict:
    first = grids[0]
    sections = [i18n.nested(_grid_section(grid, detail, limit)) for grid in grids]
    key = {"full": "heatmap.body.both", "off_track": "heatmap.body.off_track"}.get(detail, "heatmap.body.counts")
    return i18n.message(key, sections=i18n.lines(*sections), green=first.green_from, yellow=first.yellow_from)


def rendered_bytes(message: dict) -> int:
    """The largest UTF-8 size of `message` in the tenant's languages."""
    from django.utils import translation

    sizes = []
    for language in ("zh-hans", "en"):
        with translation.override(language):
            sizes.append(len(i18n.render(message).encode("utf-8")))
    return max(sizes)


def _candidates(grids: list[Grid]):
    """Bodies from the most to the least detailed: every cell; the cells behind; the rows behind cut shorter
    and shorter (the rest counted); the counts per band."""
    yield _body(grids, "full")
    yield _body(grids, "off_track")
    limit = max(len(grid.rows) for grid in grids)
    while limit > 1:
        limit = limit * 3 // 4
        yield _body(grids, "off_track", limit)
    yield _body(grids, "counts")


def heatmap_message(grids: Grid | list[Grid], *, week: str, budget: int = MESSAGE_BUDGET_BYTES) -> tuple[dict, dict]:
    """Title and body as stored messages, rendered in each reader's language when read or sent: every map of
    `grids` (the month, then the quarter) in one body, as detailed as fits `budget` bytes in either language."""
    grids = grids if isinstance(grids, list) else [grids]
    title = i18n.message("heatmap.title", week=week,
                         scope=i18n.nested(i18n.message(f"heatmap.scope.{grids[0].scope}")))
    room = budget - rendered_bytes(title)
    for body in _candidates(grids):
        if rendered_bytes(body) <= room:
            break
    return title, body


def report_grids(report) -> list[Grid]:
    """The maps a sent report carried: the month, and the quarter for reports sent since it was added."""
    data = report.cells
    grids = []
    for part in [data, *data.get("also", [])]:
        grids.append(Grid(scope=part["scope"], period=period_of(part["period_kind"], dt.date.fromisoformat(
            part.get("period_start") or report.period_start.isoformat())), expected=part["expected"],
            columns=part["columns"], rows=part["rows"], green_from=part["green_from"], yellow_from=part["yellow_from"]))
    return grids


def _recipients() -> list[tuple]:
    """(user, role) of the admins and managers: those who answer for a region or a team get a heatmap."""
    members = Member.objects.select_related("user").filter(role__in=[Role.ADMIN, Role.MANAGER], user__is_active=True)
    return [(m.user, m.role) for m in members.order_by("user_id")]


def _stored(grids: list[Grid]) -> dict:
    """The month's map, with the other periods' maps under "also" (the page reads both)."""
    return {**grids[0].as_data(), "also": [grid.as_data() for grid in grids[1:]]}


def _claim(week: str, grids: dict[int, list[Grid]], *, now) -> list[tuple[int, int]]:
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
            [week, next(iter(grids.values()))[0].period.start, now, recipient_ids,
             [grids[r][0].scope for r in recipient_ids], [json.dumps(_stored(grids[r])) for r in recipient_ids]],
        )
        return cursor.fetchall()


def month_quarter_label(month: Period) -> str:
    return period_of(PeriodKind.QUARTER, month.start).label


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
    policy = policy_get()
    grids: dict[int, list[Grid]] = {}
    for kind in (PeriodKind.MONTH, PeriodKind.QUARTER):
        period = period_of(kind, local_now.date())
        tree, targets, won, expected = board_context(period=period, today=local_now.date())
        columns = ["", *product_lines_targeted(period)]
        for user, role in users:
            reach = reach_for(user, tree, role=role)
            if reach.roots:
                grids.setdefault(user.pk, []).append(heatmap_grid(
                    reach=reach, period=period, targets=targets, won=won, expected=expected, columns=columns,
                    policy=policy))
    grids = {user_id: maps for user_id, maps in grids.items() if len(maps) == 2}
    month = period_of(PeriodKind.MONTH, local_now.date())
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
                payload={"week": week, "period": month.label, "quarter": month_quarter_label(month),
                         "reports": [r for r, _ in claimed],
                         "recipients": [u for _, u in claimed], "clock": now},
            )
    return len(claimed)
