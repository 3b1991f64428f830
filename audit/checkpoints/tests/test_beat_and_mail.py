"""The hourly checkpoint from beat (per tenant, only when the tree grew, consistency proof kept)
and the weekly checkpoint to the tenant's admins (once per ISO week in tenant time)."""
import base64
import datetime as dt

import pytest
from django.conf import settings
from django.core import mail
from django.db import connection
from django_tenants.utils import schema_context

from audit import merkle
from audit.checkpoints.keys import verifier_key
from audit.checkpoints.mail import checkpoint_mail_admins
from audit.checkpoints.models import Checkpoint
from audit.checkpoints.tasks import checkpoint_hourly_task, checkpoint_weekly_mail_task
from audit.models import AuditChainHead, AuditEntry
from audit.verifier import verify_record
from salesflow.notifications.models import Channel, Delivery, Notification
from salesflow.org.models import Role
from salesflow.org.tests.factories import MemberFactory, UserFactory
from salesflow.tenancy.tasks import fan_out_to_tenants

from .conftest import record_many

UTC = dt.timezone.utc
MONDAY = dt.datetime(2026, 11, 30, 1, 15, tzinfo=UTC)  # beat's Monday 09:15 in Shanghai, ISO week 49
WEEK = "audit.checkpoint_weekly:2026-W49"


def _root_of_entries(size: int) -> str:
    tree = merkle.CompactRange()
    for entry_hash in AuditEntry.objects.order_by("seq").values_list("entry_hash", flat=True)[:size]:
        tree.append(merkle.leaf_hash(bytes.fromhex(entry_hash)))
    return tree.root().hex()


# --- hourly, from beat -------------------------------------------------------------------------

def test_beat_runs_the_hourly_checkpoint_through_the_tenant_fan_out():
    entry = settings.CELERY_BEAT_SCHEDULE["audit-checkpoint-hourly"]
    assert entry["task"] == "salesflow.tenancy.tasks.fan_out_to_tenants"
    assert entry["args"][0] == "audit.checkpoints.tasks.checkpoint_hourly_task"


def test_the_hourly_checkpoint_is_made_only_when_the_tree_grew(alpha):
    record_many(alpha.admin, 3)
    checkpoint_hourly_task()
    first = Checkpoint.objects.latest("tree_size")
    assert (first.tree_size, first.reason) == (AuditChainHead.objects.get().seq, "hourly")
    assert checkpoint_hourly_task() == f"checkpoint at tree size {first.tree_size}"
    assert checkpoint_hourly_task() == f"checkpoint at tree size {first.tree_size}"
    assert Checkpoint.objects.count() == 1  # nothing new: no new checkpoint, however often beat runs

    record_many(alpha.admin, 4)
    checkpoint_hourly_task()
    second = Checkpoint.objects.latest("tree_size")
    assert Checkpoint.objects.count() == 2 and second.tree_size == first.tree_size + 4
    assert second.root_hash == _root_of_entries(second.tree_size)
    assert second.consistency_from == first.tree_size
    proof = [bytes.fromhex(h) for h in second.consistency_proof.split()]
    assert proof  # 3 → 7 leaves needs hashes
    assert verify_record.consistency_holds(first.tree_size, second.tree_size, bytes.fromhex(first.root_hash),
                                           bytes.fromhex(second.root_hash), proof)
    assert not verify_record.consistency_holds(first.tree_size, second.tree_size, bytes.fromhex(first.root_hash),
                                               bytes.fromhex(second.root_hash), proof[:-1] + [b"\0" * 32])


def test_the_fan_out_checkpoints_each_tenant_over_its_own_entries(alpha, monkeypatch):
    record_many(alpha.admin, 2)
    with schema_context("beta"):
        record_many("test", 5)
    ran_in = []

    def run_here(**_options):
        ran_in.append(connection.schema_name)
        return checkpoint_hourly_task.run()

    monkeypatch.setattr(checkpoint_hourly_task, "apply_async", run_here)
    fan_out_to_tenants("audit.checkpoints.tasks.checkpoint_hourly_task", 0)
    assert {"alpha", "beta"} <= set(ran_in)
    for schema in ("alpha", "beta"):
        with schema_context(schema):
            latest = Checkpoint.objects.latest("tree_size")
            assert latest.tree_size == AuditChainHead.objects.get().seq == AuditEntry.objects.count()
            assert latest.root_hash == _root_of_entries(latest.tree_size)
            assert latest.origin == f"{schema}.localhost"
            assert verify_record.checkpoint_open(latest.note, str(verifier_key()))[0] == f"{schema}.localhost"


# --- weekly, to the admins ---------------------------------------------------------------------

@pytest.fixture
def admins(alpha):
    second = MemberFactory(user=UserFactory(username="admin2", email="admin2@alpha.example.com"), role=Role.ADMIN,
                           team=None, language="en")
    gone = MemberFactory(user=UserFactory(username="admin_gone", is_active=False), role=Role.ADMIN, team=None)
    return [alpha.admin, second.user], gone.user


def test_the_weekly_checkpoint_goes_to_each_admin_once_with_what_it_signs(alpha, admins):
    told, gone = admins
    record_many(alpha.admin, 3)
    assert checkpoint_mail_admins(now=MONDAY) == 2
    checkpoint = Checkpoint.objects.latest("tree_size")
    assert checkpoint.reason == "weekly" and checkpoint.tree_size == AuditEntry.objects.count()
    assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in told)
    root64 = base64.b64encode(bytes.fromhex(checkpoint.root_hash)).decode()
    vkey = str(verifier_key())
    for message in mail.outbox:
        assert checkpoint.note in message.body  # origin, size and root, signed
        assert f"alpha.localhost\n{checkpoint.tree_size}\n{root64}\n" in message.body
        assert vkey in message.body
        assert str(checkpoint.tree_size) in message.subject
    # What the admin keeps (the note as mailed, byte for byte) verifies against the key beside it.
    assert verify_record.checkpoint_open(checkpoint.note, vkey) == (
        "alpha.localhost", checkpoint.tree_size, bytes.fromhex(checkpoint.root_hash))
    english = next(m for m in mail.outbox if m.to == ["admin2@alpha.example.com"])
    assert english.subject.startswith("This week's signed audit checkpoint")
    assert Notification.objects.filter(event_key=WEEK).count() == 2
    assert not Notification.objects.filter(recipient=gone).exists()


def test_a_second_run_in_the_same_week_sends_nothing_and_the_next_week_sends_again(alpha, admins):
    assert checkpoint_mail_admins(now=MONDAY) == 2
    record_many(alpha.admin, 2)
    sunday_evening = dt.datetime(2026, 12, 6, 15, 0, tzinfo=UTC)  # Sunday 23:00 in Shanghai: still week 49
    assert checkpoint_mail_admins(now=sunday_evening) == 0
    assert checkpoint_mail_admins(now=MONDAY + dt.timedelta(hours=3)) == 0
    assert len(mail.outbox) == 2
    next_week = dt.datetime(2026, 12, 6, 16, 30, tzinfo=UTC)  # Sunday in UTC, Monday 00:30 in Shanghai: week 50
    assert checkpoint_mail_admins(now=next_week) == 2
    assert len(mail.outbox) == 4
    assert Notification.objects.filter(event_key="audit.checkpoint_weekly:2026-W50").count() == 2
    latest = Checkpoint.objects.latest("tree_size")
    assert str(latest.tree_size) in mail.outbox[-1].subject  # the newer, larger tree


def test_the_beat_task_is_the_same_weekly_send(alpha, admins, monkeypatch):
    from audit.checkpoints import mail as checkpoint_mail

    monkeypatch.setattr(checkpoint_mail.timezone, "now", lambda: MONDAY)
    entry = settings.CELERY_BEAT_SCHEDULE["audit-checkpoint-weekly-mail"]
    assert entry["args"][0] == "audit.checkpoints.tasks.checkpoint_weekly_mail_task"
    monkeypatch.setattr("audit.checkpoints.tasks.timezone.now", lambda: MONDAY)
    assert checkpoint_weekly_mail_task() == 2
    assert checkpoint_weekly_mail_task() == 0
    assert len(mail.outbox) == 2


def test_with_an_email_channel_each_admin_gets_one_email_not_two(alpha, admins):
    Channel.objects.create(name="邮件", kind=Channel.Kind.EMAIL)
    assert checkpoint_mail_admins(now=MONDAY) == 2
    assert mail.outbox == []  # not sent beside the channel…
    assert Delivery.objects.filter(event_key=WEEK).count() == 2  # …which delivers it
