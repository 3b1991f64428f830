import factory
from django.db import transaction

from followups.models import Opportunity
from forecasting.models import Evidence, EvidenceLevel, EvidenceSource
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
