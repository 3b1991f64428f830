"""Pure SLA rules on one opportunity's clocks; the scan applies the same rules in SQL."""
import datetime as dt
from decimal import Decimal

from .models import Light, SlaPolicy


def policy_get() -> SlaPolicy:
    """The tenant's policy row (installed at provisioning; defaults if an old tenant lacks it)."""
    policy = SlaPolicy.objects.filter(pk=1).first()
    return policy or SlaPolicy(pk=1, cadence_days=[3, 7, 14])


def cadence_due(
    *, policy: SlaPolicy, amount: Decimal, created_at: dt.datetime, last_activity_at: dt.datetime
) -> dt.datetime:
    """When the next touch is due by cadence alone.

    High-value opportunities follow the checkpoints (day 3, 7, 14 after first contact),
    then keep the last checkpoint gap; everything else is touched every
    `standard_cadence_days`.
    """
    days = list(policy.cadence_days or [])
    if amount is not None and Decimal(amount) >= policy.high_value_amount and days:
        for day in days:
            checkpoint = created_at + dt.timedelta(days=day)
            if checkpoint > last_activity_at:
                return checkpoint
        gap = days[-1] - days[-2] if len(days) > 1 else days[-1]
        return last_activity_at + dt.timedelta(days=max(gap, 1))
    return last_activity_at + dt.timedelta(days=policy.standard_cadence_days)


def next_due(
    *,
    policy: SlaPolicy,
    amount: Decimal,
    created_at: dt.datetime,
    last_activity_at: dt.datetime,
    next_step_due_at: dt.datetime | None,
) -> dt.datetime:
    """The earlier of the promised next step and the cadence."""
    due = cadence_due(policy=policy, amount=amount, created_at=created_at, last_activity_at=last_activity_at)
    if next_step_due_at is not None and next_step_due_at < due:
        return next_step_due_at
    return due


def light_for(*, policy: SlaPolicy, next_due_at: dt.datetime | None, now: dt.datetime) -> Light:
    """Green on schedule, yellow from `yellow_after_days` late, red beyond `red_after_days`."""
    if next_due_at is None:
        return Light.GREEN
    late = now - next_due_at
    if late > dt.timedelta(days=policy.red_after_days):
        return Light.RED
    if late >= dt.timedelta(days=policy.yellow_after_days):
        return Light.YELLOW
    return Light.GREEN
