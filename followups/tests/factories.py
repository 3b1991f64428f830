import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

from followups.models import Account, Contact, ContactRole, Opportunity, Stage
from followups.services import opportunity_seed


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    name = factory.Sequence(lambda n: f"华东第{n}人民医院")
    industry = "医疗器械"
    region = "华东区"
    tier = "tertiary_hospital"


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    account = factory.SubFactory(AccountFactory)
    name = factory.Sequence(lambda n: f"联系人{n}")
    role = ContactRole.CIO
    is_key_person = True


def opportunity_make(
    *, owner, stage: str = "initial_contact", amount: Decimal = Decimal("100000"), created_at=None,
    last_activity_at=None, stage_entered_at=None, next_due_at=None, account=None, name="影像设备采购", credit: int = 0,
) -> Opportunity:
    """An opportunity made by the service, then with its clocks set as the test needs; `credit`
    backs it with that many points of evidence (enough to pass the stage gates it moves through)."""
    created_at = created_at or timezone.now()
    account = account or AccountFactory(owner=owner)
    opportunity = opportunity_seed(
        actor=owner, account=account, name=name, owner=owner, amount=amount,
        stage=Stage.objects.get(code=stage), created_at=created_at, via="web",
    )
    clocks = {
        "last_activity_at": last_activity_at or created_at,
        "stage_entered_at": stage_entered_at or created_at,
    }
    if next_due_at is not None:
        clocks["next_due_at"] = next_due_at
    Opportunity.objects.filter(pk=opportunity.pk).update(**clocks)
    if credit:
        from forecasting.tests.factories import credit_give

        credit_give(opportunity, credit)
    opportunity.refresh_from_db()
    return opportunity


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)
