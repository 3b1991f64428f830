"""Targets on the organisation tree: roll-up checks and live attainment per node.

Won amount of a node in a period = the amounts of opportunities whose stage is a won stage
(`Stage.outcome`), won inside the period in the tenant's zone, owned by the people of the
node's subtree. The moment a deal was won is the time of its last stage change into the
won stage it is in (`StageChange.at`; `stage_entered_at` for a deal without one).
"""
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection

from followups.models import Opportunity, Outcome, Stage, StageChange
from followups.workdays import WorkCalendar, tenant_calendar
from salesflow.org.selectors import tenant_settings_get

from ..models_targets import Target, TargetLevel
from ..services.periods import Period, expected_share
from .orgtree import OrgNode, OrgTree, Reach, org_tree, reach_for

ZERO = Decimal(0)


def won_amounts(period: Period, *, tz) -> dict[tuple[int, str], Decimal]:
    """(owner id, product line) → amount won in the period, one statement."""
    start, end = period.bounds(tz)
    opp, stage, change = Opportunity._meta.db_table, Stage._meta.db_table, StageChange._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT o.owner_id, o.product_line, SUM(o.amount)
            FROM {opp} o
            JOIN {stage} s ON s.id = o.stage_id AND s.outcome = %(won)s
            LEFT JOIN LATERAL (
                SELECT MAX(c.at) AS at FROM {change} c WHERE c.opportunity_id = o.id AND c.to_stage_id = o.stage_id
            ) w ON TRUE
            WHERE COALESCE(w.at, o.stage_entered_at) >= %(start)s AND COALESCE(w.at, o.stage_entered_at) < %(end)s
            GROUP BY o.owner_id, o.product_line
            """,
            {"won": Outcome.WON, "start": start, "end": end},
        )
        return {(owner_id, line or ""): amount for owner_id, line, amount in cursor.fetchall()}


def targets_for(period: Period) -> dict[tuple[str, int | None, str], Target]:
    """(level, node key, product line) → target, for one period."""
    found = {}
    for target in Target.objects.filter(period_kind=period.kind, period_start=period.start).select_related("owner__member"):
        found[(target.level, target.node_id, target.product_line)] = target
    return found


@dataclass
class Standing:
    """One node's target, its roll-up check and its attainment, for one product line."""

    node: OrgNode
    depth: int
    target: Target | None
    effective: Decimal | None  # the node's target, or what the level below adds up to
    won: Decimal
    expected: float
    children_total: Decimal | None  # the targets one level down, when any is set
    children_missing: int  # nodes one level down without a target
    can_edit: bool

    @property
    def amount(self) -> Decimal | None:
        return self.target.amount if self.target else None

    @property
    def attainment(self) -> float | None:
        if not self.effective:
            return None
        return float(self.won / self.effective)

    @property
    def deviation(self) -> float | None:
        """Attainment minus the share expected by now, in percentage points."""
        if self.attainment is None:
            return None
        return round((self.attainment - self.expected) * 100, 1)

    @property
    def gap(self) -> Decimal | None:
        """Level below minus this target: negative when the level below falls short."""
        if self.target is None or self.children_total is None:
            return None
        return self.children_total - self.target.amount

    @property
    def rollup(self) -> str:
        """ok, short, over, undivided (nothing set below), untargeted (nothing set here), leaf, none."""
        if not self.node.children:
            return "leaf" if self.target else "none"
        if self.target is None:
            return "untargeted" if self.children_total is not None else "none"
        if self.children_total is None:
            return "undivided"
        if self.gap == 0:
            return "ok"
        return "short" if self.gap < 0 else "over"

    @property
    def bar_percent(self) -> int:
        """Attainment as a bar width (0–100)."""
        return max(0, min(100, round((self.attainment or 0) * 100)))

    @property
    def expected_percent(self) -> int:
        return round(self.expected * 100)


@dataclass
class TargetBoard:
    period: Period
    product_line: str
    expected: float
    today: dt.date
    rows: list[Standing]
    tree: OrgTree
    reach: Reach

    @property
    def mismatches(self) -> list[Standing]:
        return [row for row in self.rows if row.rollup in ("short", "over")]


class Calculator:
    """Effective targets and won amounts of the nodes of one tree, for one period and product line."""

    def __init__(self, *, targets, won, product_line: str):
        self.targets, self.won, self.product_line = targets, won, product_line
        self._effective: dict[int, Decimal | None] = {}
        self._won: dict[int, Decimal] = {}

    def target(self, node: OrgNode) -> Target | None:
        return self.targets.get((node.level, node.key, self.product_line))

    def effective(self, node: OrgNode) -> Decimal | None:
        key = id(node)
        if key not in self._effective:
            target = self.target(node)
            if target is not None:
                self._effective[key] = target.amount
            else:
                below = [self.effective(child) for child in node.children]
                below = [amount for amount in below if amount is not None]
                self._effective[key] = sum(below, ZERO) if below else None
        return self._effective[key]

    def won_of(self, node: OrgNode) -> Decimal:
        key = id(node)
        if key not in self._won:
            total = sum((self._won_by(user_id) for user_id in node.own_user_ids), ZERO)
            total += sum((self.won_of(child) for child in node.children), ZERO)
            self._won[key] = total
        return self._won[key]

    def _won_by(self, user_id: int) -> Decimal:
        if self.product_line:
            return self.won.get((user_id, self.product_line), ZERO)
        return sum((amount for (owner, _), amount in self.won.items() if owner == user_id), ZERO)

    def standing(self, node: OrgNode, *, depth: int, expected: float, reach: Reach) -> Standing:
        child_targets = [self.target(child) for child in node.children]
        set_below = [t.amount for t in child_targets if t is not None]
        return Standing(
            node=node, depth=depth, target=self.target(node), effective=self.effective(node), won=self.won_of(node),
            expected=expected, children_total=sum(set_below, ZERO) if set_below else None,
            children_missing=sum(1 for t in child_targets if t is None), can_edit=reach.can_edit(node),
        )


def board_context(*, period: Period, today: dt.date, calendar: WorkCalendar | None = None):
    """What every view of targets needs once per request: the tree, the targets, the wins, the expected share."""
    tenant = tenant_settings_get()
    calendar = calendar or tenant_calendar()
    tree = org_tree(company_name=tenant.display_name)
    return tree, targets_for(period), won_amounts(period, tz=tenant.tzinfo), expected_share(period, today=today, calendar=calendar)


def target_board(*, user, period: Period, product_line: str = "", today: dt.date) -> TargetBoard:
    """Every node `user` may see, depth-first from their roots, with targets, roll-up and attainment."""
    tree, targets, won, expected = board_context(period=period, today=today)
    reach = reach_for(user, tree)
    calc = Calculator(targets=targets, won=won, product_line=product_line)
    rows = []

    def visit(node: OrgNode, depth: int):
        rows.append(calc.standing(node, depth=depth, expected=expected, reach=reach))
        for child in node.children:
            visit(child, depth + 1)

    for root in reach.roots:
        visit(root, 0)
    return TargetBoard(period=period, product_line=product_line, expected=expected, today=today, rows=rows,
                       tree=tree, reach=reach)


def product_lines_targeted(period: Period) -> list[str]:
    """Product lines with at least one target in the period, in the vocabulary's order."""
    from salesflow.org.vocabularies import vocabulary_codes

    used = set(Target.objects.filter(period_kind=period.kind, period_start=period.start).exclude(product_line="")
               .values_list("product_line", flat=True))
    ordered = [code for code in vocabulary_codes("product_line") if code in used]
    return ordered + sorted(used - set(ordered))
