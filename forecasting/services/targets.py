"""Setting and clearing targets: in the editor's reach only, audited in the same transaction."""
import datetime as dt
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.services import audit_record
from salesflow.org.selectors import tenant_settings_get

from ..models_targets import Target, TargetLevel
from ..selectors.orgtree import OrgNode, org_tree, reach_for
from .periods import Period


class NodeNotFound(LookupError):
    """No such node, or one the user may not see: answered alike (404)."""


def node_for_edit(*, user, level: str, key: int | None) -> OrgNode:
    """The node if `user` may edit its target; NodeNotFound when they may not see it, PermissionDenied
    when they see it but it is not theirs to set."""
    tree = org_tree(company_name=tenant_settings_get().display_name)
    node = tree.get(level, key) if level in TargetLevel.values else None
    reach = reach_for(user, tree)
    if node is None or not (reach.can_see(node) or reach.can_edit(node)):
        raise NodeNotFound(level, key)
    if not reach.can_edit(node):
        raise PermissionDenied("not in the editor's reach")
    return node


def _node_fields(node: OrgNode) -> dict:
    return {
        "level": node.level,
        "region_id": node.key if node.level == TargetLevel.REGION else None,
        "team_id": node.key if node.level == TargetLevel.TEAM else None,
        "rep_id": node.key if node.level == TargetLevel.REP else None,
    }


def _snapshot(target: Target | None) -> dict | None:
    if target is None:
        return None
    return {"amount": str(target.amount), "owner": target.owner_id, "deadline": target.deadline.isoformat()}


def target_set(
    *, actor, level: str, key: int | None, period: Period, product_line: str, amount: Decimal,
    owner=None, deadline: dt.date | None = None, reason: str = "",
) -> Target:
    """Create or change the target of one node, period and product line."""
    node = node_for_edit(user=actor, level=level, key=key)
    deadline = deadline or period.last_day
    lookup = {"period_kind": period.kind, "period_start": period.start, "product_line": product_line, **_node_fields(node)}
    values = {"amount": amount, "owner": owner, "deadline": deadline, "updated_at": timezone.now(), "updated_by": actor}
    for attempt in (1, 2):
        try:
            with transaction.atomic():
                target = Target.objects.select_for_update().filter(**lookup).first()
                before = _snapshot(target)
                if target is None:
                    target = Target.objects.create(**lookup, **values)
                else:
                    for name, value in values.items():
                        setattr(target, name, value)
                    target.save()
                audit_record(
                    actor=actor, verb="target.set", target=target, reason=reason,
                    payload={"period": period.label, "level": node.level, "node": node.key, "node_name": node.name,
                             "product_line": product_line, "before": before, "after": _snapshot(target)},
                )
                return target
        except IntegrityError:
            if attempt == 2:  # two first saves raced: the loser retries as an update
                raise
    raise AssertionError("unreachable")


def target_clear(*, actor, level: str, key: int | None, period: Period, product_line: str, reason: str = "") -> bool:
    """Remove the target of one node, period and product line; False when there was none."""
    node = node_for_edit(user=actor, level=level, key=key)
    lookup = {"period_kind": period.kind, "period_start": period.start, "product_line": product_line, **_node_fields(node)}
    with transaction.atomic():
        target = Target.objects.select_for_update().filter(**lookup).first()
        if target is None:
            return False
        before, target_id = _snapshot(target), target.pk
        target.delete()
        audit_record(
            actor=actor, verb="target.cleared", target_type="forecasting.target", target_id=target_id, reason=reason,
            payload={"period": period.label, "level": node.level, "node": node.key, "node_name": node.name,
                     "product_line": product_line, "before": before},
        )
    return True
