"""Accounts, contacts, opportunities, stage moves and follow-up records."""
import datetime as dt
import mimetypes
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from forecasting.services.evidence import evidence_for_followup
from forecasting.services.gates import gate_enforce, gate_enforce_entry
from salesflow.fields import too_long_message

from ..models import (
    Account,
    ActionKey,
    ActionTemplate,
    Attachment,
    Contact,
    ContactRole,
    FollowUp,
    FollowUpKind,
    Light,
    LocationStatus,
    Opportunity,
    Outcome,
    RecordKind,
    Stage,
    StageChange,
    StageReminder,
    Task,
)
from ..rules import light_for, next_due, policy_get
from .history import creation_changes, history_write
from .sla import account_lights_refresh

MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
SUMMARY_MAX_LENGTH = 4000


@dataclass(frozen=True)
class Location:
    """Where the rep was, as the browser reported it; or why there is no position."""

    status: str = LocationStatus.NOT_ASKED
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    accuracy_m: int | None = None


def _user_or_none(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


def _label(actor) -> str:
    user = _user_or_none(actor)
    return user.get_username() if user else str(actor or "system")


def account_create(
    *, actor, name: str, owner, industry: str = "", region: str = "", tier: str = "", source_lead_id: int | None = None,
    via: str = "web",
) -> Account:
    if not name.strip():
        raise ValidationError({"name": _("A name is required.")})
    values = {"name": name.strip(), "industry": industry, "region": region, "tier": tier, "owner": owner}
    with transaction.atomic():
        account = Account.objects.create(source_lead_id=source_lead_id, **values)
        history_write(actor=actor, record_type=RecordKind.ACCOUNT, record_id=account.pk, account_id=account.pk,
                      changes=creation_changes(values), via=via, at=account.created_at, at_creation=True)
        audit_record(actor=actor, verb="account.created", target=account, payload={"name": name, "owner": owner.pk})
    return account


def contact_create(
    *,
    actor,
    account: Account,
    name: str,
    role: str = ContactRole.OTHER,
    title: str = "",
    is_key_person: bool = False,
    influence: int = 3,
    phone: str = "",
    email: str = "",
    via: str = "web",
) -> Contact:
    if not name.strip():
        raise ValidationError({"name": _("A name is required.")})
    if role not in ContactRole.values:
        raise ValidationError({"role": _("Unknown decision role.")})
    values = {"name": name.strip(), "role": role, "title": title, "is_key_person": is_key_person,
              "influence": influence, "phone": phone, "email": email}
    with transaction.atomic():
        contact = Contact.objects.create(account=account, **values)
        history_write(actor=actor, record_type=RecordKind.CONTACT, record_id=contact.pk, account_id=account.pk,
                      changes=creation_changes(values), via=via, at_creation=True)
        audit_record(
            actor=actor, verb="contact.created", target=contact,
            payload={"account": account.pk, "name": name, "role": role, "key_person": is_key_person},
        )
    return contact


def _tasks_for_entry(*, opportunity: Opportunity, change: StageChange) -> list[Task]:
    reminders = StageReminder.objects.filter(stage=change.to_stage)
    return Task.objects.bulk_create(
        [
            Task(
                opportunity=opportunity, assignee_id=opportunity.owner_id, reminder=reminder, stage_change=change,
                title=reminder.title, due_at=change.at + dt.timedelta(hours=reminder.offset_hours),
            )
            for reminder in reminders
        ],
        ignore_conflicts=True,
    )


def opportunity_create(
    *,
    actor,
    account: Account,
    name: str,
    owner,
    amount: Decimal = Decimal("0"),
    stage: Stage | None = None,
    expected_close: dt.date | None = None,
    product_line: str = "",
    via: str = "web",
    source_lead_id: int | None = None,
    first_touch_at: dt.datetime | None = None,
    created_at: dt.datetime | None = None,
    entry_credit: int = 0,
    ip: str | None = None,
) -> Opportunity:
    """A new opportunity in `stage` (the pipeline's first open stage by default).

    Entering a stage at creation meets the same gates as moving into it (`gate_enforce_entry`), with
    `entry_credit`: 0, or the points of the customer's own submission the caller adds right after.
    A refusal is audited and raised; a caller already inside a transaction checks the gate first with
    `opportunity_entry_gate` so that the refusal's audit entry survives the rollback.
    """
    now = created_at or timezone.now()
    stage = stage or stage_first_open()
    if stage is None:
        raise ValidationError(_("The pipeline has no open stage."))
    if not stage.is_open:
        raise ValidationError({"stage": _("A new opportunity starts in an open stage.")})
    due = next_due(policy=policy_get(), amount=amount, created_at=now, last_activity_at=now, next_step_due_at=None)
    with transaction.atomic():
        refused = gate_enforce_entry(actor=actor, to_stage=stage, credit=entry_credit, via=via, account=account,
                                     name=name, ip=ip)
        if refused is None:
            opportunity = _opportunity_insert(
                actor=actor, account=account, name=name, owner=owner, amount=amount, stage=stage,
                expected_close=expected_close, product_line=product_line, via=via, source_lead_id=source_lead_id,
                first_touch_at=first_touch_at, now=now, due=due,
            )
    if refused is not None:
        raise refused
    return opportunity


def stage_first_open() -> Stage | None:
    return Stage.objects.filter(outcome=Outcome.OPEN).order_by("position", "id").first()


def opportunity_seed(*, actor, account: Account, name: str, owner, stage: Stage, amount: Decimal = Decimal("0"),
                     expected_close: dt.date | None = None, product_line: str = "", via: str = "seed",
                     source_lead_id: int | None = None, first_touch_at: dt.datetime | None = None,
                     created_at: dt.datetime | None = None) -> Opportunity:
    """History written as it already happened (test fixtures, demo seeds, benchmarks): the opportunity is put in
    `stage`, open or closed, without a gate check. No view, API, admin or import calls this; they use
    `opportunity_create` / `opportunity_stage_change`."""
    now = created_at or timezone.now()
    due = next_due(policy=policy_get(), amount=amount, created_at=now, last_activity_at=now, next_step_due_at=None)
    with transaction.atomic():
        return _opportunity_insert(
            actor=actor, account=account, name=name, owner=owner, amount=amount, stage=stage,
            expected_close=expected_close, product_line=product_line, via=via, source_lead_id=source_lead_id,
            first_touch_at=first_touch_at, now=now, due=due,
        )


def _opportunity_insert(*, actor, account, name, owner, amount, stage, expected_close, product_line, via,
                        source_lead_id, first_touch_at, now, due) -> Opportunity:
    opportunity = Opportunity.objects.create(
        account=account, name=name, owner=owner, stage=stage, amount=amount, expected_close=expected_close,
        product_line=product_line, source_lead_id=source_lead_id, first_touch_at=first_touch_at,
        created_at=now, stage_entered_at=now, last_activity_at=now, next_due_at=due,
        is_open=stage.is_open, light=Light.GREEN if stage.is_open else Light.NONE,
    )
    change = StageChange.objects.create(
        opportunity=opportunity, from_stage=None, to_stage=stage, actor=_user_or_none(actor),
        actor_label=_label(actor), at=now, via=via,
    )
    _tasks_for_entry(opportunity=opportunity, change=change)
    history_write(
        actor=actor, record_type=RecordKind.OPPORTUNITY, record_id=opportunity.pk, account_id=account.pk,
        changes=creation_changes({"name": name, "amount": amount, "expected_close": expected_close,
                                  "product_line": product_line, "owner": owner, "account": account}),
        via=via, at=now, at_creation=True,
    )
    account_lights_refresh(account_ids=[account.pk])
    audit_record(
        actor=actor, verb="opportunity.created", target=opportunity,
        payload={"account": account.pk, "stage": stage.code, "amount": amount, "owner": owner.pk, "via": via,
                 "source_lead": source_lead_id},
    )
    return opportunity


def opportunity_stage_change(
    *,
    actor,
    opportunity: Opportunity,
    to_stage: Stage,
    via: str,
    ip: str | None = None,
    lost_reason: str = "",
    now: dt.datetime | None = None,
) -> Opportunity:
    """Move to `to_stage`, recording who, when and from where; starts the stage's reminders.

    The opportunity row is locked and must still be in the stage the caller saw, so of two
    concurrent moves only the first applies; the second is refused rather than silently
    overwriting. The stage gate (forecasting) is checked on the locked row: a refusal is
    audited and raised as a ValidationError saying what is missing.
    """
    now = now or timezone.now()
    if to_stage.pk == opportunity.stage_id:
        raise ValidationError(_("The opportunity is already in that stage."))
    if to_stage.outcome == Outcome.LOST and not lost_reason.strip():
        raise ValidationError({"lost_reason": _("Say why the opportunity was lost.")})
    from_stage_id = opportunity.stage_id
    with transaction.atomic():
        current = Opportunity.objects.select_for_update(of=("self",)).select_related("stage").get(pk=opportunity.pk)
        if current.stage_id != from_stage_id:
            raise ValidationError(_("Someone else moved this opportunity meanwhile; reload and try again."))
        refused = gate_enforce(actor=actor, opportunity=current, to_stage=to_stage, via=via, ip=ip)
        if refused is None:
            _stage_move(actor=actor, opportunity=opportunity, from_stage_id=from_stage_id, to_stage=to_stage, via=via,
                        ip=ip, lost_reason=lost_reason, now=now)
    if refused is not None:
        raise refused
    return opportunity


def _stage_move(*, actor, opportunity, from_stage_id, to_stage, via, ip, lost_reason, now) -> None:
    updated = Opportunity.objects.filter(pk=opportunity.pk, stage_id=from_stage_id).update(
        stage=to_stage, stage_entered_at=now, is_open=to_stage.is_open, is_stagnant=False,
        light=Light.GREEN if to_stage.is_open else Light.NONE, light_changed_at=now,
        lost_reason=lost_reason.strip() if to_stage.outcome == Outcome.LOST else "",
    )
    if updated != 1:
        raise ValidationError(_("Someone else moved this opportunity meanwhile; reload and try again."))
    change = StageChange.objects.create(
        opportunity=opportunity, from_stage_id=from_stage_id, to_stage=to_stage, actor=_user_or_none(actor),
        actor_label=_label(actor), at=now, via=via, ip=ip, reason=lost_reason.strip(),
    )
    opportunity.refresh_from_db()
    if to_stage.is_open:
        _tasks_for_entry(opportunity=opportunity, change=change)
    else:
        Task.objects.filter(opportunity=opportunity, done_at__isnull=True).update(done_at=now)
    account_lights_refresh(account_ids=[opportunity.account_id])
    audit_record(
        actor=actor, verb="opportunity.stage_changed", target=opportunity,
        payload={"from": from_stage_id, "to": to_stage.code, "via": via, "ip": ip, "lost_reason": lost_reason},
    )


def _validate_files(files) -> None:
    for upload in files:
        if upload.size > MAX_ATTACHMENT_BYTES:
            raise ValidationError({"files": _("%(name)s is larger than 20 MB.") % {"name": upload.name}})


def followup_log(
    *,
    actor,
    opportunity: Opportunity,
    kind: str,
    summary: str,
    action: str = ActionKey.TOUCH,
    template: ActionTemplate | None = None,
    contacts=(),
    next_step: str = "",
    next_step_due_at: dt.datetime | None = None,
    occurred_at: dt.datetime | None = None,
    location: Location = Location(),
    files=(),
    corrects: FollowUp | None = None,
) -> FollowUp:
    """Append a follow-up; it restarts the golden-hours clock and recomputes the light."""
    now = timezone.now()
    occurred_at = occurred_at or now
    if kind not in FollowUpKind.values:
        raise ValidationError({"kind": _("Unknown kind of follow-up.")})
    if not summary.strip():
        raise ValidationError({"summary": _("Write what happened.")})
    if len(summary.strip()) > SUMMARY_MAX_LENGTH:
        raise ValidationError({"summary": too_long_message(len(summary.strip()), SUMMARY_MAX_LENGTH)})
    if occurred_at > now + dt.timedelta(minutes=5):
        raise ValidationError({"occurred_at": _("A follow-up cannot happen in the future.")})
    contacts = list(contacts)
    if any(contact.account_id != opportunity.account_id for contact in contacts):
        raise ValidationError({"contacts": _("Pick contacts of this customer.")})
    files = list(files)
    _validate_files(files)
    policy = policy_get()
    with transaction.atomic():
        # Lock the opportunity: two follow-ups logged at once must not lose a clock update.
        opp = Opportunity.objects.select_for_update().get(pk=opportunity.pk)
        followup = FollowUp.objects.create(
            opportunity=opp, account_id=opp.account_id, author=actor, kind=kind, action=action, template=template,
            summary=summary.strip(), occurred_at=occurred_at, logged_at=now, stage_id=opp.stage_id,
            next_step=next_step.strip(), next_step_due_at=next_step_due_at,
            latitude=location.latitude, longitude=location.longitude, location_accuracy_m=location.accuracy_m,
            location_status=location.status, corrects=corrects,
        )
        if contacts:
            followup.contacts.set(contacts)
        attachments = [
            Attachment.objects.create(
                followup=followup, file=upload, original_name=upload.name[:200],
                content_type=(upload.content_type or mimetypes.guess_type(upload.name)[0] or "application/octet-stream")[:100],
                size=upload.size,
            )
            for upload in files
        ]
        evidence_for_followup(actor=actor, followup=followup, attachments=attachments)
        last = max(opp.last_activity_at, occurred_at)
        due = next_due(
            policy=policy, amount=opp.amount, created_at=opp.created_at, last_activity_at=last,
            next_step_due_at=next_step_due_at,
        )
        fields = {"last_activity_at": last, "next_due_at": due, "is_stagnant": False}
        if opp.is_open:
            light = light_for(policy=policy, next_due_at=due, now=now)
            if light != opp.light:
                fields |= {"light": light, "light_changed_at": now}
        if opp.first_touch_at is None:
            fields["first_touch_at"] = occurred_at
        Opportunity.objects.filter(pk=opp.pk).update(**fields)
        if "light" in fields:
            account_lights_refresh(account_ids=[opp.account_id])
        audit_record(
            actor=actor, verb="followup.logged", target=followup,
            payload={
                "opportunity": opp.pk, "kind": kind, "action": action, "template": template.code if template else None,
                # Sealed with the entry: a customer interaction record shows what was said, provably.
                "summary": followup.summary, "occurred_at": occurred_at,
                "contacts": [c.pk for c in contacts], "attachments": [f.name for f in files],
                "location": location.status, "corrects": corrects.pk if corrects else None,
            },
        )
    for name, value in fields.items():
        setattr(opportunity, name, value)
    return followup


def followup_correct(*, actor, original: FollowUp, summary: str, next_step: str = "", next_step_due_at=None) -> FollowUp:
    """A correction is a new record referencing the one it corrects; the original stays."""
    return followup_log(
        actor=actor, opportunity=original.opportunity, kind=original.kind, action=original.action,
        summary=summary, next_step=next_step, next_step_due_at=next_step_due_at, corrects=original,
        occurred_at=original.occurred_at, contacts=original.contacts.all(),
    )


def followup_from_template(
    *, actor, opportunity: Opportunity, template: ActionTemplate, kind: str | None = None,
    location: Location = Location(), now: dt.datetime | None = None,
) -> FollowUp:
    """One tap: the template fills kind, summary, action-pack credit and the next step."""
    now = now or timezone.now()
    due = now + dt.timedelta(days=template.next_step_days) if template.next_step_days else None
    return followup_log(
        actor=actor, opportunity=opportunity, kind=kind or template.kind, summary=template.summary,
        action=template.action, template=template, next_step=template.next_step, next_step_due_at=due,
        occurred_at=now, location=location,
    )


def visit_log(*, actor, opportunity: Opportunity, outcome: ActionTemplate, location: Location) -> FollowUp:
    """The "3-second" visit: now, here, this customer, one of the offered outcomes."""
    if not outcome.is_visit_outcome or not outcome.active:
        raise ValidationError({"outcome": _("That is not one of the visit outcomes.")})
    return followup_from_template(
        actor=actor, opportunity=opportunity, template=outcome, kind=FollowUpKind.VISIT, location=location
    )


def task_complete(*, actor, task: Task) -> Task:
    with transaction.atomic():
        updated = Task.objects.filter(pk=task.pk, done_at__isnull=True).update(done_at=timezone.now())
        if updated:
            audit_record(actor=actor, verb="task.completed", target=task, payload={"opportunity": task.opportunity_id})
    task.refresh_from_db()
    return task
