"""seed_demo: accounts with decision chains, opportunities in every stage and follow-ups
spread over the last --days days with realistic gaps (on time, late, very late, stagnant).

Rows are bulk-inserted (the history is written as it would have accumulated, not
replayed through the services), then the clocks are set from the rules the services
use, so the first SLA scan finds every colour. One audit entry records the seeding.
"""
import datetime as dt
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from faker import Faker

from audit.services import audit_record
from salesflow.org.models import Role

from .models import (
    Account,
    ActionTemplate,
    Contact,
    ContactRole,
    FollowUp,
    FollowUpKind,
    Light,
    LocationStatus,
    Opportunity,
    Outcome,
    Stage,
    StageChange,
    StageReminder,
    Task,
)
from .rules import light_for, next_due, policy_get
from .services.defaults import defaults_install
from .services.sla import account_lights_refresh
from .workdays import tenant_calendar

BATCH = 5000
INDUSTRIES = {
    # Tiers are codes of the tier vocabulary (salesflow.org.vocabularies).
    "医疗器械": (["tertiary_hospital", "secondary_hospital", "township_clinic"], ["影像设备", "检验试剂", "手术耗材"], "医院"),
    "工业零部件": (["key_account", "sme"], ["液压件", "传动件", "密封件"], "机械有限公司"),
    "SaaS软件": (["key_account", "sme"], ["CRM套件", "数据平台"], "科技有限公司"),
    "快消分销": (["key_account", "sme"], ["饮料", "日化"], "商贸有限公司"),
}
REGIONS = ["华东区", "华北区", "华南区", "西南区"]
CHAIN = [
    (ContactRole.CIO, "信息中心主任", True, 5),
    (ContactRole.PURCHASING, "采购部主任", True, 4),
    (ContactRole.ENGINEER, "设备科工程师", False, 3),
    (ContactRole.FINANCE, "财务处处长", True, 4),
    (ContactRole.END_USER, "科室主任", False, 3),
]
NOTES = [
    "电话沟通预算与采购时间表。", "客户反馈需要对比竞品参数。", "约了下周二上门拜访。", "已发送产品白皮书。",
    "客户内部立项中，等待领导审批。", "技术交流会，客户关注售后响应时间。", "采购询问分期付款方式。",
    "客户希望先小范围试用。", "跟进上次报价，客户认为价格偏高。", "与设备科确认安装场地条件。",
]
# Share of open opportunities per silence profile: on schedule, late, very late, stagnant.
PROFILES = [("green", 45), ("yellow", 20), ("red", 20), ("stagnant", 15)]


def _profile(rng) -> str:
    return rng.choices([p for p, _ in PROFILES], weights=[w for _, w in PROFILES])[0]


def seed_followups(*, rng, options) -> str:
    """Accounts, decision chains, opportunities and follow-ups; does nothing if accounts exist."""
    if Account.objects.exists():
        return "accounts exist; nothing seeded"
    if not Stage.objects.exists():
        defaults_install(actor="seed_demo")
    now = timezone.now()
    days = options["days"]
    total = options["opportunities"]
    fake = Faker("zh_CN")
    fake.seed_instance(rng.randrange(2**31))
    policy = policy_get()
    calendar = tenant_calendar()
    stagnant_cutoff = calendar.cutoff_for(now, policy.stagnation_working_days)
    User = get_user_model()
    reps = list(User.objects.filter(member__role=Role.REP).order_by("username").values_list("pk", flat=True))
    if not reps:
        reps = list(User.objects.filter(member__isnull=False).values_list("pk", flat=True))
    stages = list(Stage.objects.order_by("position"))
    open_stages = [s for s in stages if s.outcome == Outcome.OPEN]
    closed_stages = [s for s in stages if s.outcome != Outcome.OPEN]
    templates = list(ActionTemplate.objects.filter(active=True))
    reminders: dict[int, list[StageReminder]] = {}
    for reminder in StageReminder.objects.all():
        reminders.setdefault(reminder.stage_id, []).append(reminder)

    with transaction.atomic():
        # Accounts: about one per 1.3 opportunities, each with a decision chain.
        account_count = max(1, int(total / 1.3))
        accounts = []
        for number in range(account_count):
            industry = rng.choice(list(INDUSTRIES))
            tiers, _, suffix = INDUSTRIES[industry]
            accounts.append(Account(
                name=f"{fake.city_name()}{fake.last_name()}{suffix}·{number + 1}", industry=industry,
                region=rng.choice(REGIONS), tier=rng.choice(tiers), owner_id=rng.choice(reps),
                created_at=now - dt.timedelta(days=days, hours=rng.randint(0, 240)),
            ))
        accounts = Account.objects.bulk_create(accounts, batch_size=BATCH)
        contacts = []
        for account in accounts:
            for role, title, key, influence in rng.sample(CHAIN, k=rng.randint(2, len(CHAIN))):
                contacts.append(Contact(
                    account=account, name=fake.name(), title=title, role=role, is_key_person=key,
                    influence=influence, phone=fake.phone_number(),
                ))
        Contact.objects.bulk_create(contacts, batch_size=BATCH)

        opportunities, plans = [], []
        for number in range(total):
            account = accounts[number % len(accounts)] if number < len(accounts) else rng.choice(accounts)
            _, products, _ = INDUSTRIES[account.industry]
            closed = rng.random() < 0.12
            stage = rng.choice(closed_stages) if closed else rng.choices(open_stages, weights=[30, 25, 20, 15, 10])[0]
            created = now - dt.timedelta(days=rng.uniform(2, days), hours=rng.uniform(0, 12))
            profile = "closed" if closed else _profile(rng)
            # The last touch: recent for those on schedule, far back for the stagnant.
            span = (now - created).total_seconds() / 86400
            if profile == "green":
                last_ago = rng.uniform(0.05, min(1.5, span))
            elif profile == "stagnant":
                last_ago = rng.uniform(min(span, 9), max(min(span, 9), min(span, 25)))
            else:
                last_ago = rng.uniform(min(span, 2), max(min(span, 2), min(span, 12)))
            last = now - dt.timedelta(days=last_ago)
            last = max(last, created)
            if profile == "yellow":
                next_step_due = now - dt.timedelta(days=rng.uniform(1.05, 2.9))
            elif profile == "red":
                next_step_due = now - dt.timedelta(days=rng.uniform(3.2, 12))
            elif profile == "green":
                next_step_due = now + dt.timedelta(days=rng.uniform(0.2, 6))
            else:
                next_step_due = last + dt.timedelta(days=rng.uniform(1, 4))
            next_step_due = max(next_step_due, last + dt.timedelta(hours=1))
            amount = Decimal(rng.choice([8, 15, 30, 50, 80, 120, 260, 600, 1200])) * 10000
            stage_entered = created + (last - created) * rng.uniform(0.2, 0.9) if profile != "green" else created + (last - created) * rng.uniform(0.1, 1.0)
            if profile == "stagnant":
                stage_entered = min(stage_entered, last)
            due = next_due(policy=policy, amount=amount, created_at=created, last_activity_at=last,
                           next_step_due_at=next_step_due)
            is_open = stage.outcome == Outcome.OPEN
            opportunities.append(Opportunity(
                account=account, name=f"{rng.choice(products)}采购项目", owner_id=account.owner_id, stage=stage,
                amount=amount, product_line=rng.choice(products),
                expected_close=(now + dt.timedelta(days=rng.randint(-20, 120))).date(),
                lost_reason="预算被削减" if stage.outcome == Outcome.LOST else "",
                created_at=created, is_open=is_open, stage_entered_at=stage_entered, last_activity_at=last,
                next_due_at=due if is_open else None,
                light=light_for(policy=policy, next_due_at=due, now=now) if is_open else Light.NONE,
                is_stagnant=is_open and max(stage_entered, last) < stagnant_cutoff,
                first_touch_at=created + dt.timedelta(minutes=rng.choice([3, 5, 12, 30, 90, 300, 1440])),
            ))
            plans.append((created, last, next_step_due))
        opportunities = Opportunity.objects.bulk_create(opportunities, batch_size=BATCH)

        changes = [
            StageChange(opportunity=o, from_stage=None, to_stage=o.stage, actor_label="seed_demo", at=o.stage_entered_at,
                        via="import")
            for o in opportunities
        ]
        changes = StageChange.objects.bulk_create(changes, batch_size=BATCH)
        tasks = []
        for opp, change in zip(opportunities, changes):
            if opp.is_open:
                for reminder in reminders.get(opp.stage_id, []):
                    tasks.append(Task(
                        opportunity=opp, assignee_id=opp.owner_id, reminder=reminder, stage_change=change,
                        title=reminder.title_zh, due_at=change.at + dt.timedelta(hours=reminder.offset_hours),
                        done_at=None if rng.random() < 0.5 else change.at + dt.timedelta(hours=reminder.offset_hours),
                    ))
        Task.objects.bulk_create(tasks, batch_size=BATCH)

        followup_count = _seed_followups(rng, opportunities, plans, templates)
        account_lights_refresh()  # customers show their deals' lights from the start, not after the first scan
        audit_record(
            actor="seed_demo", verb="demo.followups_seeded", target_type="followups.opportunity",
            payload={"accounts": len(accounts), "contacts": len(contacts), "opportunities": len(opportunities),
                     "followups": followup_count, "days": days, "seed": options["seed"]},
        )
    return f"{len(accounts)} accounts, {len(contacts)} contacts, {len(opportunities)} opportunities, {followup_count} follow-ups"


def _seed_followups(rng, opportunities, plans, templates) -> int:
    """Follow-ups between creation and the last touch, with uneven gaps; the last one carries
    the next step that decides the light. Written in batches to keep memory flat."""
    kinds = [FollowUpKind.CALL, FollowUpKind.WECHAT, FollowUpKind.VISIT, FollowUpKind.EMAIL, FollowUpKind.MEETING]
    batch, count = [], 0
    for opp, (created, last, next_step_due) in zip(opportunities, plans):
        span = (last - created).total_seconds()
        touches = max(1, min(int(span / 86400 / 2.5) + rng.randint(0, 3), 24))
        moments = sorted(created + dt.timedelta(seconds=rng.uniform(0, span)) for _ in range(touches - 1)) + [last]
        for index, moment in enumerate(moments):
            template = rng.choice(templates) if rng.random() < 0.45 else None
            is_last = index == len(moments) - 1
            kind = template.kind if template else rng.choices(kinds, weights=[35, 30, 15, 10, 10])[0]
            located = kind == FollowUpKind.VISIT and rng.random() < 0.8
            batch.append(FollowUp(
                opportunity_id=opp.pk, account_id=opp.account_id, author_id=opp.owner_id, kind=kind,
                action=template.action if template else "touch", template=template,
                summary=template.summary_zh if template else rng.choice(NOTES), occurred_at=moment,
                logged_at=moment + dt.timedelta(minutes=rng.randint(0, 90)), stage_id=opp.stage_id,
                next_step="跟进客户反馈" if is_last else "", next_step_due_at=next_step_due if is_last else None,
                latitude=Decimal(f"{31.2 + rng.uniform(-0.3, 0.3):.6f}") if located else None,
                longitude=Decimal(f"{121.47 + rng.uniform(-0.3, 0.3):.6f}") if located else None,
                location_accuracy_m=rng.randint(5, 80) if located else None,
                location_status=LocationStatus.GIVEN if located else "",
            ))
        if len(batch) >= BATCH:
            count += _flush(batch)
            batch = []
    if batch:
        count += _flush(batch)
    return count


def _flush(batch: list[FollowUp]) -> int:
    FollowUp.objects.bulk_create(batch, batch_size=BATCH)
    return len(batch)
