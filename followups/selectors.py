"""Reads of the follow-ups area, always scoped through salesflow.org.scoping."""
import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from salesflow.org.scoping import visible_user_ids

from .models import (
    Account,
    ActionTemplate,
    Attachment,
    Contact,
    FollowUp,
    Light,
    Opportunity,
    RecordChange,
    SlaAlert,
    Stage,
    StageChange,
    StageRequirement,
    Task,
)


def opportunity_list(*, user) -> QuerySet[Opportunity]:
    """Opportunities `user` may see, with what a board row shows already joined."""
    qs = Opportunity.objects.select_related("account", "stage", "owner__member")
    visible = visible_user_ids(user)
    return qs if visible is None else qs.filter(owner_id__in=visible)


def opportunity_get_for_user(*, user, opportunity_id: int) -> Opportunity | None:
    """The opportunity if it exists and `user` may see it; None for missing and hidden alike."""
    return opportunity_list(user=user).filter(pk=opportunity_id).first()


def account_get_for_user(*, user, account_id: int) -> Account | None:
    """The account if `user` owns it or sees the owner of one of its opportunities; else None."""
    return account_list(user=user).filter(pk=account_id).first()


def attachment_get_for_user(*, user, attachment_id: int) -> Attachment | None:
    """The attachment if `user` may see its follow-up's opportunity; None otherwise."""
    qs = Attachment.objects.select_related("followup")
    visible = visible_user_ids(user)
    if visible is not None:
        qs = qs.filter(followup__opportunity__owner_id__in=visible)
    return qs.filter(pk=attachment_id).first()


def followup_get_for_user(*, user, followup_id: int) -> FollowUp | None:
    qs = FollowUp.objects.select_related("opportunity")
    visible = visible_user_ids(user)
    if visible is not None:
        qs = qs.filter(opportunity__owner_id__in=visible)
    return qs.filter(pk=followup_id).first()


def task_get_for_user(*, user, task_id: int) -> Task | None:
    """Only the assignee completes their own task."""
    return Task.objects.filter(pk=task_id, assignee=user).first()


def followups_recent(*, opportunity: Opportunity | None = None, account: Account | None = None, limit: int = 20):
    qs = FollowUp.objects.select_related("author__member", "template", "corrects", "opportunity").prefetch_related(
        "contacts", "attachments"
    )
    if opportunity is not None:
        qs = qs.filter(opportunity=opportunity)
    if account is not None:
        qs = qs.filter(account=account)
    return list(qs.order_by("-occurred_at", "-id")[:limit])


@dataclass
class PackLine:
    requirement: StageRequirement
    done: int

    @property
    def complete(self) -> bool:
        return self.done >= self.requirement.count


def action_pack_progress(*, opportunity: Opportunity) -> list[PackLine]:
    """Each required action of the current stage with how many follow-ups counted for it."""
    requirements = list(StageRequirement.objects.filter(stage_id=opportunity.stage_id).order_by("id"))
    if not requirements:
        return []
    done = dict(
        FollowUp.objects.filter(opportunity=opportunity, stage_id=opportunity.stage_id, corrects__isnull=True)
        .values_list("action")
        .annotate(n=Count("id"))
    )
    return [PackLine(requirement=r, done=done.get(r.action, 0)) for r in requirements]


def opportunity_detail(*, opportunity: Opportunity) -> dict:
    return {
        "opportunity": opportunity,
        "contacts": list(opportunity.account.contacts.all()),
        "followups": followups_recent(opportunity=opportunity, limit=30),
        "pack": action_pack_progress(opportunity=opportunity),
        "tasks": list(opportunity.tasks.filter(done_at__isnull=True).order_by("due_at")),
        "stage_changes": list(
            StageChange.objects.filter(opportunity=opportunity).select_related("from_stage", "to_stage")[:10]
        ),
        "templates": [t for t in template_list() if not t.is_visit_outcome],
        "visit_outcomes": [t for t in template_list() if t.is_visit_outcome],
        "stages": list(Stage.objects.all()),
        "lead_history": lead_history(opportunity=opportunity),
        "history": _history_lines(record_history(record_type="opportunity", record_id=opportunity.pk, limit=30)),
    }


def _history_lines(rows):
    from .history_display import history_lines

    return history_lines(rows)


def lead_history(*, opportunity: Opportunity) -> list:
    """The touches of the lead this opportunity came from (its history before conversion)."""
    if opportunity.source_lead_id is None:
        return []
    from leads.models import LeadTouch

    return list(LeadTouch.objects.filter(lead_id=opportunity.source_lead_id).select_related("actor").order_by("-at")[:20])


def template_list() -> list[ActionTemplate]:
    return list(ActionTemplate.objects.filter(active=True).order_by("position", "id"))


@dataclass
class TodayItem:
    bucket: str  # overdue | today | reminder
    due_at: dt.datetime
    opportunity: Opportunity
    task: Task | None = None


def rep_today(*, user, now: dt.datetime | None = None, tz=None, limit: int = 200) -> list[TodayItem]:
    """The rep's own work ordered by urgency: overdue first, then due today, then reminders."""
    now = now or timezone.now()
    tz = tz or timezone.get_current_timezone()
    end_of_day = dt.datetime.combine(now.astimezone(tz).date() + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    opps = list(
        Opportunity.objects.select_related("account", "stage")
        .filter(owner=user, is_open=True, next_due_at__lt=end_of_day)
        .order_by("next_due_at")[:limit]
    )
    tasks = list(
        Task.objects.select_related("opportunity__account", "opportunity__stage")
        .filter(assignee=user, done_at__isnull=True, opportunity__is_open=True, due_at__lt=end_of_day + dt.timedelta(days=3))
        .order_by("due_at")[:limit]
    )
    items = [TodayItem("overdue" if o.next_due_at < now else "today", o.next_due_at, o) for o in opps]
    items += [TodayItem("reminder", t.due_at, t.opportunity, t) for t in tasks]
    order = {"overdue": 0, "today": 1, "reminder": 2}
    items.sort(key=lambda item: (order[item.bucket], item.due_at))
    return items


@dataclass
class TeamAttention:
    """What needs a manager today: their people's red lights, stagnations and unaccepted leads."""

    red_count: int
    stagnant_count: int
    unaccepted_count: int
    reds: list[Opportunity]
    stagnant: list[Opportunity]
    unaccepted: list


def team_attention(*, user, limit: int = 8) -> TeamAttention:
    """The manager's team work needing them, scoped like every list (their own records excluded:
    those are on their own today list)."""
    from leads.selectors import leads_awaiting_acceptance

    team_open = opportunity_list(user=user).filter(is_open=True).exclude(owner=user)
    counts = board_counts(team_open)
    unaccepted = leads_awaiting_acceptance(user=user)
    return TeamAttention(
        red_count=counts["red"],
        stagnant_count=counts["stagnant"],
        unaccepted_count=unaccepted.count(),
        reds=list(team_open.filter(light=Light.RED).order_by("next_due_at", "id")[:limit]),
        stagnant=list(team_open.filter(is_stagnant=True).order_by("stage_entered_at", "id")[:limit]),
        unaccepted=list(unaccepted[:limit]),
    )


def board_counts(qs: QuerySet[Opportunity]) -> dict[str, int]:
    """Open opportunities by light, and how many are stagnant, in one grouped query.

    Grouping on (light, is_stagnant) touches only columns of the partial counts index,
    so PostgreSQL can answer from the index without visiting the table.
    """
    counts = {"green": 0, "yellow": 0, "red": 0, "stagnant": 0}
    names = {Light.GREEN: "green", Light.YELLOW: "yellow", Light.RED: "red"}
    rows = qs.order_by().values_list("light", "is_stagnant").annotate(n=Count("*"))
    for light, stagnant, n in rows:
        if light in names:
            counts[names[light]] += n
        if stagnant:
            counts["stagnant"] += n
    return counts


def stagnant_list(*, user, limit: int = 100) -> list[Opportunity]:
    return list(
        opportunity_list(user=user).filter(is_open=True, is_stagnant=True).order_by("stage_entered_at")[:limit]
    )


def rep_compliance(*, user, now: dt.datetime | None = None, days: int = 30) -> list[dict]:
    """Per rep in scope: open opportunities by light, on-schedule share, golden-48h lapses lately."""
    now = now or timezone.now()
    visible = visible_user_ids(user)
    opp_qs = Opportunity.objects.filter(is_open=True)
    alert_qs = SlaAlert.objects.filter(raised_at__gte=now - dt.timedelta(days=days), kind="golden48")
    if visible is not None:
        opp_qs = opp_qs.filter(owner_id__in=visible)
        alert_qs = alert_qs.filter(owner_id__in=visible)
    rows = {
        r["owner_id"]: r
        for r in opp_qs.values("owner_id").annotate(
            total=Count("id"),
            green=Count("id", filter=Q(light=Light.GREEN)),
            yellow=Count("id", filter=Q(light=Light.YELLOW)),
            red=Count("id", filter=Q(light=Light.RED)),
            stagnant=Count("id", filter=Q(is_stagnant=True)),
        )
    }
    lapses = dict(alert_qs.values("owner_id").annotate(n=Count("id")).values_list("owner_id", "n"))
    from salesflow.org.models import Member

    names = dict(Member.objects.filter(user_id__in=rows.keys()).values_list("user_id", "full_name"))
    result = []
    for owner_id, r in rows.items():
        r["name"] = names.get(owner_id, str(owner_id))
        r["on_schedule"] = round(100 * r["green"] / r["total"]) if r["total"] else 100
        r["lapses"] = lapses.get(owner_id, 0)
        result.append(r)
    result.sort(key=lambda r: (r["on_schedule"], -r["red"]))
    return result


def account_drilldown(*, account: Account, user) -> dict:
    return {
        "account": account,
        "contacts": list(account.contacts.all()),
        "opportunities": list(opportunity_list(user=user).filter(account=account).order_by("-is_open", "-light")),
        "followups": followups_recent(account=account, limit=10),
        "history": _history_lines(record_history(account_id=account.pk, limit=30)),
    }


def account_list(*, user) -> QuerySet[Account]:
    """Accounts `user` may see: owned by someone in scope, or holding an opportunity of someone in scope."""
    qs = Account.objects.select_related("owner__member")
    visible = visible_user_ids(user)
    if visible is None:
        return qs
    return qs.filter(pk__in=account_ids_in_scope(visible))


def account_ids_in_scope(visible: set[int]) -> QuerySet:
    """Ids of the customers people in `visible` own or hold an opportunity of, as a subquery.

    A UNION of two index scans: an OR of the two conditions made PostgreSQL read every
    account of the tenant to decide, 100,000 rows for a search that matches 200 contacts.
    """
    owned = Account.objects.filter(owner_id__in=visible).order_by().values("id")
    held = Opportunity.objects.filter(owner_id__in=visible).order_by().values("account_id")
    return owned.union(held, all=True)


def contact_get_for_user(*, user, contact_id: int) -> Contact | None:
    """The contact if `user` may see its account; None for missing and hidden alike."""
    contact = Contact.objects.select_related("account").filter(pk=contact_id).first()
    if contact is None or account_get_for_user(user=user, account_id=contact.account_id) is None:
        return None
    return contact


def record_history(*, record_type: str | None = None, record_id: int | None = None, account_id: int | None = None,
                   limit: int = 50) -> list[RecordChange]:
    """History rows newest first: of one record, or of a whole customer (account, contacts, opportunities)."""
    qs = RecordChange.objects.all()
    if record_type is not None:
        qs = qs.filter(record_type=record_type, record_id=record_id)
    if account_id is not None:
        qs = qs.filter(account_id=account_id)
    return list(qs.order_by("-at", "-id")[:limit])


def opportunity_as_of(*, opportunity: Opportunity, at: dt.datetime) -> dict:
    """The opportunity's tracked fields as they were known at `at` (the forecast's rebuild rule).

    Per field: the new value of the latest change at or before `at`; failing that (the
    record predates its history) the old value of the earliest change after `at`; else the
    current value. None for a field set only after `at` at creation.
    """
    from .services.history import history_value

    rows = list(RecordChange.objects.filter(record_type="opportunity", record_id=opportunity.pk).order_by("at", "id"))
    if opportunity.created_at > at:
        return {}
    result = {}
    for name in ("name", "amount", "expected_close", "product_line", "owner", "account"):
        before = [r for r in rows if r.field == name and r.at <= at]
        after = [r for r in rows if r.field == name and r.at > at]
        if before:
            result[name] = before[-1].new_value
        elif after:
            result[name] = None if after[0].at_creation else after[0].old_value
        else:
            current = getattr(opportunity, f"{name}_id") if name in ("owner", "account") else getattr(opportunity, name)
            result[name] = history_value(current)
    return result
