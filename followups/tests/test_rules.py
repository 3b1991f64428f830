import datetime as dt
from decimal import Decimal

import pytest

from followups.models import Light, SlaPolicy
from followups.rules import cadence_due, light_for, next_due

NOW = dt.datetime(2026, 3, 10, 9, tzinfo=dt.UTC)


def policy(**kw):
    return SlaPolicy(**({"cadence_days": [3, 7, 14], "high_value_amount": Decimal(500000)} | kw))


@pytest.mark.parametrize(
    ("late", "expected"),
    [
        (dt.timedelta(days=-2), Light.GREEN),
        (dt.timedelta(hours=23), Light.GREEN),
        (dt.timedelta(days=1), Light.YELLOW),
        (dt.timedelta(days=3), Light.YELLOW),
        (dt.timedelta(days=3, minutes=1), Light.RED),
    ],
)
def test_default_thresholds_are_yellow_one_to_three_days_late_and_red_beyond(late, expected):
    assert light_for(policy=policy(), next_due_at=NOW - late, now=NOW) == expected


@pytest.mark.parametrize(
    ("late_days", "expected"), [(6, Light.GREEN), (7, Light.YELLOW), (14, Light.YELLOW), (15, Light.RED)]
)
def test_a_tenant_may_choose_seven_and_fourteen_days(late_days, expected):
    chosen = policy(yellow_after_days=7, red_after_days=14)
    assert light_for(policy=chosen, next_due_at=NOW - dt.timedelta(days=late_days), now=NOW) == expected


def test_nothing_due_is_green():
    assert light_for(policy=policy(), next_due_at=None, now=NOW) == Light.GREEN


def test_high_value_customers_are_touched_on_day_3_7_and_14_then_weekly():
    created = NOW
    p = policy()
    big = Decimal(800000)
    assert cadence_due(policy=p, amount=big, created_at=created, last_activity_at=created) == created + dt.timedelta(days=3)
    assert cadence_due(policy=p, amount=big, created_at=created, last_activity_at=created + dt.timedelta(days=4)) == created + dt.timedelta(days=7)
    assert cadence_due(policy=p, amount=big, created_at=created, last_activity_at=created + dt.timedelta(days=8)) == created + dt.timedelta(days=14)
    after = created + dt.timedelta(days=15)
    assert cadence_due(policy=p, amount=big, created_at=created, last_activity_at=after) == after + dt.timedelta(days=7)


def test_ordinary_customers_follow_the_standard_cadence_and_a_promised_step_comes_first():
    p = policy(standard_cadence_days=14)
    small = Decimal(10000)
    assert cadence_due(policy=p, amount=small, created_at=NOW, last_activity_at=NOW) == NOW + dt.timedelta(days=14)
    promised = NOW + dt.timedelta(days=2)
    assert next_due(policy=p, amount=small, created_at=NOW, last_activity_at=NOW, next_step_due_at=promised) == promised
    later = NOW + dt.timedelta(days=30)
    assert next_due(policy=p, amount=small, created_at=NOW, last_activity_at=NOW, next_step_due_at=later) == NOW + dt.timedelta(days=14)
