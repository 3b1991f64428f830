import datetime as dt

import factory
from django.db.models import Q

from followups.models import ActionKey, Contact, FollowUp, FollowUpKind, Opportunity
from followups.tests.factories import AccountFactory, ContactFactory, opportunity_make


class FollowUpFactory(factory.django.DjangoModelFactory):
    """A follow-up row as it stands in the log; `contacts=[...]` are the people it touched."""

    class Meta:
        model = FollowUp
        skip_postgeneration_save = True  # follow-ups are append-only: a second save is an UPDATE

    opportunity = None
    account = factory.LazyAttribute(lambda f: f.opportunity.account)
    author = factory.LazyAttribute(lambda f: f.opportunity.owner)
    kind = FollowUpKind.CALL
    action = ActionKey.TOUCH
    summary = "电话沟通"
    stage = factory.LazyAttribute(lambda f: f.opportunity.stage)

    @factory.post_generation
    def contacts(self, create, extracted, **kwargs):
        if create and extracted:
            self.contacts.set(extracted)


def closed_deal(*, owner, won: bool, created_at: dt.datetime, days_open: float, product_line: str = "影像设备",
                chain=(("cio", True), ("purchasing", True), ("engineer", False))) -> Opportunity:
    """A deal created at `created_at` and won or lost `days_open` days later, its account with a
    decision chain of (role, key person) contacts."""
    account = AccountFactory(owner=owner)
    for role, key in chain:
        ContactFactory(account=account, role=role, is_key_person=key)
    deal = opportunity_make(owner=owner, stage="won" if won else "lost", account=account, created_at=created_at,
                            stage_entered_at=created_at + dt.timedelta(days=days_open))
    Opportunity.objects.filter(pk=deal.pk).update(product_line=product_line)
    deal.refresh_from_db()
    return deal


def touch(deal: Opportunity, *, day: float, roles=(), kind=FollowUpKind.CALL, action=ActionKey.TOUCH, template=None,
          corrects=None) -> FollowUp:
    """A follow-up `day` days after the deal was created, touching its contacts of `roles`."""
    contacts = list(Contact.objects.filter(account_id=deal.account_id).filter(Q(role__in=roles))) if roles else []
    return FollowUpFactory(opportunity=deal, occurred_at=deal.created_at + dt.timedelta(days=day), kind=kind,
                           action=action, template=template, contacts=contacts, corrects=corrects)
