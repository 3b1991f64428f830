import datetime as dt
from decimal import Decimal

import factory
from django.db import transaction

from followups.models import Opportunity, Stage, StageChange
from followups.tests.factories import opportunity_make
from forecasting.models import Evidence, EvidenceLevel, EvidenceSource, PeriodKind, Target, TargetLevel
from forecasting.services.evidence import credit_adjust


class EvidenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Evidence

    source = EvidenceSource.NOTE
    level = EvidenceLevel.WEAK
    points = 2


def credit_give(opportunity: Opportunity, points: int) -> Opportunity:
    """Back `opportunity` with `points` of accepted evidence (one row), stored score kept in step."""
    with transaction.atomic():
        EvidenceFactory(opportunity=opportunity, source=EvidenceSource.CUSTOMER_CONFIRMATION,
                        level=EvidenceLevel.STRONG, points=points)
        credit_adjust(opportunity_id=opportunity.pk, delta=points)
    opportunity.refresh_from_db()
    return opportunity



def won_opportunity(*, owner, amount, won_at: dt.datetime, product_line: str = "影像设备",
                    created_at: dt.datetime | None = None) -> Opportunity:
    """A deal created earlier and won at `won_at` (its stage change into the won stage then)."""
    created_at = created_at or won_at - dt.timedelta(days=20)
    opportunity = opportunity_make(owner=owner, stage="won", amount=Decimal(amount), created_at=created_at,
                                   stage_entered_at=won_at)
    Opportunity.objects.filter(pk=opportunity.pk).update(product_line=product_line)
    StageChange.objects.create(
        opportunity=opportunity, from_stage=Stage.objects.get(code="negotiation"), to_stage=Stage.objects.get(code="won"),
        actor=owner, actor_label=owner.get_username(), at=won_at, via="web",
    )
    return opportunity


def target_make(*, amount, level=TargetLevel.REP, region=None, team=None, rep=None, product_line="",
                kind=PeriodKind.MONTH, start=dt.date(2026, 12, 1), owner=None, deadline=None) -> Target:
    return Target.objects.create(
        period_kind=kind, period_start=start, level=level, region=region, team=team, rep=rep, product_line=product_line,
        amount=Decimal(amount), owner=owner, deadline=deadline or dt.date(2026, 12, 31),
    )
