"""Editing and reassigning records: one history row per changed field, audited in the same transaction."""
import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import InternalError, ProgrammingError, transaction
from django.utils import timezone

from audit.models import AuditEntry
from followups.models import Opportunity, RecordChange, Task
from followups.selectors import opportunity_as_of
from followups.services import (
    account_create,
    account_reassign,
    account_update,
    contact_create,
    contact_update,
    opportunity_open,
    opportunity_reassign,
    opportunity_update,
)

from .factories import AccountFactory, opportunity_make


def _rows(record_type, record_id, **filters):
    return list(RecordChange.objects.filter(record_type=record_type, record_id=record_id, **filters).order_by("id"))


def test_a_new_opportunity_keeps_the_values_it_was_created_with(alpha):
    opp = opportunity_make(owner=alpha.rep, amount=Decimal("250000"))
    rows = {r.field: r for r in _rows("opportunity", opp.pk)}
    assert rows["amount"].new_value == "250000.00" and rows["amount"].old_value is None and rows["amount"].at_creation
    assert rows["owner"].new_value == alpha.rep.pk and rows["account"].new_value == opp.account_id


def test_editing_the_amount_and_close_date_writes_one_row_per_field_and_one_audit_entry(alpha):
    opp = opportunity_make(owner=alpha.rep, amount=Decimal("100000"))
    opportunity_update(actor=alpha.rep, opportunity=opp, via="mobile", amount=Decimal("120000"),
                       expected_close=dt.date(2027, 3, 31), name=opp.name, product_line="")
    changes = _rows("opportunity", opp.pk, at_creation=False)
    assert [(c.field, c.old_value, c.new_value) for c in changes] == [
        ("amount", "100000.00", "120000.00"), ("expected_close", None, "2027-03-31"),
    ]
    assert {(c.actor_id, c.actor_label, c.via) for c in changes} == {(alpha.rep.pk, "rep", "mobile")}
    entry = AuditEntry.objects.get(verb="opportunity.updated", target_id=str(opp.pk))
    assert entry.payload["changes"]["amount"] == ["100000.00", "120000.00"]
    opp.refresh_from_db()
    assert opp.amount == Decimal("120000") and opp.expected_close == dt.date(2027, 3, 31)


def test_saving_without_a_change_writes_nothing(alpha):
    opp = opportunity_make(owner=alpha.rep, amount=Decimal("100000"))
    before = (RecordChange.objects.count(), AuditEntry.objects.count())
    opportunity_update(actor=alpha.rep, opportunity=opp, amount=Decimal("100000.00"), name=opp.name)
    assert (RecordChange.objects.count(), AuditEntry.objects.count()) == before


def test_a_negative_amount_or_blank_name_is_refused_and_nothing_changes(alpha):
    opp = opportunity_make(owner=alpha.rep, amount=Decimal("100000"))
    with pytest.raises(ValidationError) as error:
        opportunity_update(actor=alpha.rep, opportunity=opp, amount=Decimal("-1"))
    assert "amount" in error.value.message_dict
    with pytest.raises(ValidationError):
        opportunity_update(actor=alpha.rep, opportunity=opp, name="  ")
    assert not _rows("opportunity", opp.pk, at_creation=False)


def test_raising_the_amount_over_the_high_value_line_moves_the_next_touch_earlier(alpha):
    created = timezone.now() - dt.timedelta(days=1)
    opp = opportunity_make(owner=alpha.rep, amount=Decimal("10000"), created_at=created)
    standard_due = opp.next_due_at
    opportunity_update(actor=alpha.rep, opportunity=opp, amount=Decimal("900000"))
    assert opp.next_due_at < standard_due  # high-value cadence: day 3 after creation, not day 14


def test_history_is_append_only(alpha):
    opp = opportunity_make(owner=alpha.rep)
    row = _rows("opportunity", opp.pk)[0]
    with pytest.raises((InternalError, ProgrammingError)), transaction.atomic():
        RecordChange.objects.filter(pk=row.pk).update(new_value="0")
    with pytest.raises((InternalError, ProgrammingError)), transaction.atomic():
        RecordChange.objects.filter(pk=row.pk).delete()


def test_account_and_contact_edits_are_kept_under_the_customer(alpha):
    account = account_create(actor=alpha.rep, name="瑞金医院", owner=alpha.rep, region="华东区")
    contact = contact_create(actor=alpha.rep, account=account, name="王主任", phone="13800001111")
    account_update(actor=alpha.rep, account=account, name="上海瑞金医院", industry="医疗器械", region="华东区", tier="")
    contact_update(actor=alpha.rep, contact=contact, role="purchasing", is_key_person=True)
    fields = [(r.record_type, r.field) for r in RecordChange.objects.filter(account_id=account.pk, at_creation=False).order_by("id")]
    assert fields == [("account", "name"), ("account", "industry"), ("contact", "role"), ("contact", "is_key_person")]
    assert AuditEntry.objects.filter(verb="contact.updated", target_id=str(contact.pk)).exists()
    with pytest.raises(ValidationError):
        contact_update(actor=alpha.rep, contact=contact, influence=9)


def test_a_new_opportunity_without_a_lead_can_bring_its_new_customer(alpha):
    opp = opportunity_open(actor=alpha.rep, owner=alpha.rep, name="CT 采购", account_values={"name": "新华医院"},
                           amount=Decimal("800000"), expected_close=dt.date(2027, 1, 31), product_line="影像设备")
    assert opp.account.name == "新华医院" and opp.account.owner == alpha.rep and opp.source_lead_id is None
    assert AuditEntry.objects.filter(verb="account.created", target_id=str(opp.account_id)).exists()
    with pytest.raises(ValidationError):
        opportunity_open(actor=alpha.rep, owner=alpha.rep, name="无客户", account_values={"name": " "})


def test_a_manager_reassigns_an_opportunity_within_scope_and_its_reminders_follow(alpha):
    opp = opportunity_make(owner=alpha.rep, stage="solution_demo")
    Task.objects.create(opportunity=opp, assignee=alpha.rep, title="发案例", due_at=timezone.now())
    opportunity_reassign(actor=alpha.manager, opportunity=opp, new_owner=alpha.manager)
    opp.refresh_from_db()
    assert opp.owner == alpha.manager
    assert not Task.objects.filter(opportunity=opp, assignee=alpha.rep, done_at__isnull=True).exists()
    row = _rows("opportunity", opp.pk, field="owner", at_creation=False)[0]
    assert (row.old_value, row.new_value, row.actor_id) == (alpha.rep.pk, alpha.manager.pk, alpha.manager.pk)
    assert AuditEntry.objects.get(verb="opportunity.reassigned", target_id=str(opp.pk)).payload["to"] == alpha.manager.pk


def test_reassignment_is_refused_to_reps_and_outside_the_managers_scope(alpha):
    opp = opportunity_make(owner=alpha.rep)
    with pytest.raises(PermissionDenied):
        opportunity_reassign(actor=alpha.rep, opportunity=opp, new_owner=alpha.manager)
    with pytest.raises(PermissionDenied):
        opportunity_reassign(actor=alpha.manager, opportunity=opp, new_owner=alpha.other_rep)
    assert Opportunity.objects.get(pk=opp.pk).owner == alpha.rep
    assert not _rows("opportunity", opp.pk, at_creation=False)


def test_reassigning_a_customer_hands_over_its_open_opportunities_of_the_previous_owner(alpha):
    account = AccountFactory(owner=alpha.rep)
    mine = opportunity_make(owner=alpha.rep, account=account)
    won = opportunity_make(owner=alpha.rep, account=account, stage="won")
    account_reassign(actor=alpha.director, account=account, new_owner=alpha.manager)
    mine.refresh_from_db(), won.refresh_from_db(), account.refresh_from_db()
    assert (account.owner, mine.owner, won.owner) == (alpha.manager, alpha.manager, alpha.rep)
    entry = AuditEntry.objects.get(verb="account.reassigned", target_id=str(account.pk))
    assert entry.payload["opportunities"] == [mine.pk]


def test_the_forecast_can_rebuild_an_opportunity_as_known_at_any_time(alpha):
    t0 = timezone.now() - dt.timedelta(days=10)
    opp = opportunity_make(owner=alpha.rep, amount=Decimal("100000"), created_at=t0)
    opportunity_update(actor=alpha.rep, opportunity=opp, amount=Decimal("150000"), now=t0 + dt.timedelta(days=2))
    opportunity_update(actor=alpha.rep, opportunity=opp, amount=Decimal("90000"), now=t0 + dt.timedelta(days=5))
    assert opportunity_as_of(opportunity=opp, at=t0 + dt.timedelta(days=1))["amount"] == "100000.00"
    assert opportunity_as_of(opportunity=opp, at=t0 + dt.timedelta(days=3))["amount"] == "150000.00"
    assert opportunity_as_of(opportunity=opp, at=timezone.now())["amount"] == "90000.00"
    assert opportunity_as_of(opportunity=opp, at=t0 - dt.timedelta(days=1)) == {}
