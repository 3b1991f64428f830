"""Reps' commit categories and managers' adjustments of a team's committed figure (audited)."""
import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from followups.models import Opportunity

from ..models_forecast import CommitAdjustment, CommitCategory, CommitCurrent, CommitEntry
from ..weeks import monday_of


def commit_set(*, actor, opportunity: Opportunity, category: str) -> CommitEntry:
    """Put an open opportunity in a category for the week it is expected to close."""
    if category not in CommitCategory.values:
        raise ValidationError(_("Pick commit, best case, pipeline or omitted."))
    if not opportunity.is_open or opportunity.expected_close is None:
        raise ValidationError(_("Only an open opportunity with an expected close date can be committed."))
    with transaction.atomic():
        entry = CommitEntry.objects.create(
            opportunity=opportunity, category=category, period=monday_of(opportunity.expected_close), set_by=actor,
        )
        CommitCurrent.objects.update_or_create(
            opportunity=opportunity, defaults={"category": category, "period": entry.period}
        )
        audit_record(
            actor=actor, verb="forecast.commit_set", target=opportunity,
            payload={"category": category, "period": entry.period.isoformat(), "amount": str(opportunity.amount)},
        )
    return entry


def team_rollup(*, team_id: int, week: dt.date) -> Decimal:
    """The reps' committed amount for a team and week: open deals whose latest category is commit for that week."""
    total = Opportunity.objects.filter(
        owner__member__team_id=team_id, is_open=True, commit_current__category=CommitCategory.COMMIT,
        commit_current__period=week, expected_close__gte=week, expected_close__lt=week + dt.timedelta(weeks=1),
    ).aggregate(total=Sum("amount"))["total"]
    return total or Decimal(0)


def commit_adjust(*, actor, team, week: dt.date, amount: Decimal, note: str) -> CommitAdjustment:
    note = (note or "").strip()
    if not note:
        raise ValidationError(_("Say why the committed figure is adjusted."))
    if amount < 0:
        raise ValidationError(_("The committed amount cannot be negative."))
    week = monday_of(week)
    with transaction.atomic():
        rollup = team_rollup(team_id=team.pk, week=week)
        adjustment = CommitAdjustment.objects.create(
            team=team, period=week, amount=amount, rollup=rollup, note=note, by=actor, at=timezone.now(),
        )
        audit_record(
            actor=actor, verb="forecast.commit_adjusted", target=team, reason=note,
            payload={"week": week.isoformat(), "amount": str(amount), "rollup": str(rollup)},
        )
    return adjustment


def commit_current_refresh() -> None:
    """Rebuild every opportunity's current category from its newest CommitEntry (after bulk inserts)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO forecasting_commitcurrent (opportunity_id, category, period)
            SELECT DISTINCT ON (opportunity_id) opportunity_id, category, period FROM forecasting_commitentry
            ORDER BY opportunity_id, at DESC, id DESC
            ON CONFLICT (opportunity_id) DO UPDATE SET category = EXCLUDED.category, period = EXCLUDED.period
            """
        )
