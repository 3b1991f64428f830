"""seed_demo: closed (won and lost) deals whose touch patterns differ by region, so the
attribution page shows a real signal, as in the seed article: in 华东区 most lost deals lacked
a touch of the CIO (the hospital's counterpart of the restaurant's head chef), while in 华南区
nearly every deal had one and so it separates nothing there.

Rows are bulk-inserted as they would have accumulated (deal, decision chain, follow-ups with
the contacts they touched, the closing stage change); one audit entry records the seeding.
Deterministic per --seed; does nothing when it already ran in this tenant.
"""
import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from audit.models import AuditEntry
from audit.services import audit_record
from followups.models import (
    Account,
    ActionKey,
    ActionTemplate,
    Contact,
    ContactRole,
    FollowUp,
    FollowUpKind,
    Light,
    Opportunity,
    Outcome,
    Stage,
    StageChange,
)
from leads.models import Lead
from salesflow.org.models import Member, Role

VERB = "demo.attribution_seeded"
BATCH = 5000
CHAIN = [
    (ContactRole.CIO, "信息中心主任", True),
    (ContactRole.PURCHASING, "采购部主任", True),
    (ContactRole.FINANCE, "财务处处长", True),
    (ContactRole.ENGINEER, "设备科工程师", False),
    (ContactRole.END_USER, "科室主任", False),
]
# Per region: the base win rate and, per trait, the chance it happens in a won / a lost deal.
DEFAULT_PATTERN = {
    "win": 0.45,
    ContactRole.CIO: (0.65, 0.45), ContactRole.PURCHASING: (0.8, 0.7), ContactRole.FINANCE: (0.55, 0.35),
    ContactRole.ENGINEER: (0.5, 0.5), ContactRole.END_USER: (0.4, 0.35),
    ActionKey.DEMO: (0.75, 0.45), ActionKey.POC: (0.45, 0.2), ActionKey.QUOTE: (0.8, 0.6),
    ActionKey.NEEDS_DIAGNOSIS: (0.7, 0.55), ActionKey.PROPOSAL: (0.55, 0.4), ActionKey.TENDER: (0.2, 0.2),
    ActionKey.CASE_MATERIAL: (0.4, 0.3),
    "visit_first": (0.35, 0.15),
}
PATTERNS = {
    # 73 % of lost deals lacked the CIO touch; most won ones had it.
    "华东区": {"win": 0.38, ContactRole.CIO: (0.82, 0.27)},
    # The CIO touch is routine (≈ 92 %), so it hardly separates; the POC does.
    "华南区": {"win": 0.55, ContactRole.CIO: (0.94, 0.89), ActionKey.POC: (0.7, 0.2)},
    "华北区": {"win": 0.45, ContactRole.FINANCE: (0.7, 0.25)},
}
WINDOW_DAYS = 30


def _pattern(region_name: str) -> dict:
    return {**DEFAULT_PATTERN, **PATTERNS.get(region_name, {})}


def seed_attribution(*, rng, options) -> str:
    if AuditEntry.objects.filter(verb=VERB).exists():
        return "closed deals already seeded; nothing seeded"
    reps = list(
        Member.objects.filter(role=Role.REP, team__isnull=False).select_related("team__region")
        .order_by("user_id").values_list("user_id", "team__region__name")
    )
    if not reps:
        return "no reps; nothing seeded"
    by_region: dict[str, list[int]] = {}
    for user_id, region_name in reps:
        by_region.setdefault(region_name, []).append(user_id)
    stages = {s.outcome: s for s in Stage.objects.exclude(outcome=Outcome.OPEN)}
    first_open = Stage.objects.filter(outcome=Outcome.OPEN).order_by("position").first()
    templates: dict[str, list[ActionTemplate]] = {}
    for template in ActionTemplate.objects.filter(active=True):
        templates.setdefault(template.action, []).append(template)
    leads = list(Lead.objects.order_by("id").values_list("id", flat=True)[:5000])
    total = min(max(options["opportunities"] // 2, 400), 5000)
    now = timezone.now()
    with transaction.atomic():
        plans = [_plan(rng, now=now, days=options["days"], regions=by_region, leads=leads) for _ in range(total)]
        accounts = Account.objects.bulk_create([
            Account(name=f"{plan['region']}客户·结案{number + 1}", industry="医疗器械", region=plan["region"],
                    tier="tertiary_hospital", owner_id=plan["owner"], created_at=plan["created"], light=Light.NONE)
            for number, plan in enumerate(plans)
        ], batch_size=BATCH)
        contacts = Contact.objects.bulk_create([
            Contact(account=account, name=f"{title[:2]}{number}", title=title, role=role, is_key_person=key)
            for number, account in enumerate(accounts) for role, title, key in CHAIN
        ], batch_size=BATCH)
        chain = {(c.account_id, c.role): c.pk for c in contacts}
        deals = Opportunity.objects.bulk_create([
            Opportunity(
                account=account, name="影像设备采购项目", owner_id=plan["owner"], stage=stages[plan["outcome"]],
                amount=Decimal(rng.choice([30, 50, 80, 120, 260])) * 10000, product_line=rng.choice(["影像设备", "检验试剂"]),
                lost_reason="" if plan["outcome"] == Outcome.WON else "竞品价格更低", source_lead_id=plan["lead"],
                created_at=plan["created"], is_open=False, stage_entered_at=plan["closed"],
                last_activity_at=plan["closed"], light=Light.NONE, first_touch_at=plan["created"] + dt.timedelta(hours=2),
            )
            for account, plan in zip(accounts, plans)
        ], batch_size=BATCH)
        StageChange.objects.bulk_create([
            StageChange(opportunity=deal, from_stage=first_open, to_stage=deal.stage, actor_label="seed_demo",
                        at=deal.stage_entered_at, via="import")
            for deal in deals
        ], batch_size=BATCH)
        followups, touched = [], []
        for deal, plan in zip(deals, plans):
            for followup, roles in _followups(rng, deal, plan, templates, first_open):
                followups.append(followup)
                touched.append(roles)
        followups = FollowUp.objects.bulk_create(followups, batch_size=BATCH)
        Through = FollowUp.contacts.through
        Through.objects.bulk_create([
            Through(followup_id=followup.pk, contact_id=chain[(followup.account_id, role)])
            for followup, roles in zip(followups, touched) for role in roles
        ], batch_size=BATCH)
        won = sum(1 for plan in plans if plan["outcome"] == Outcome.WON)
        audit_record(
            actor="seed_demo", verb=VERB, target_type="followups.opportunity",
            payload={"won": won, "lost": total - won, "followups": len(followups), "seed": options["seed"]},
        )
    return f"{total} closed deals ({won} won), {len(followups)} follow-ups"


def _plan(rng, *, now, days: int, regions: dict[str, list[int]], leads: list[int]) -> dict:
    region = rng.choice(sorted(regions))
    pattern = _pattern(region)
    won = rng.random() < pattern["win"]
    closed = now - dt.timedelta(days=rng.uniform(1, max(days, 30) + 60))
    length = rng.uniform(25, 70) if won else rng.uniform(8, 45)
    column = 0 if won else 1
    traits = {key: rng.random() < chances[column] for key, chances in pattern.items() if isinstance(chances, tuple)}
    return {
        "region": region, "owner": rng.choice(regions[region]), "outcome": Outcome.WON if won else Outcome.LOST,
        "closed": closed, "created": closed - dt.timedelta(days=length), "lead": rng.choice(leads) if leads and rng.random() < 0.8 else None,
        "traits": traits,
    }


def _followups(rng, deal: Opportunity, plan: dict, templates, stage):
    """The deal's follow-ups: its chosen traits inside the first 30 days (or before it closed),
    plain touches around them, some after the window (which the page must not count)."""
    created, closed = plan["created"], plan["closed"]
    window_end = min(created + dt.timedelta(days=WINDOW_DAYS), closed)
    span = (window_end - created).total_seconds()

    def moment(after=0.0):
        return created + dt.timedelta(seconds=rng.uniform(after, span))

    first_kind = FollowUpKind.VISIT if plan["traits"].pop("visit_first") else rng.choice(
        [FollowUpKind.CALL, FollowUpKind.WECHAT, FollowUpKind.CALL, FollowUpKind.EMAIL])
    yield _row(deal, kind=first_kind, at=created + dt.timedelta(hours=rng.uniform(0.5, 30)), stage=stage), []
    for key, happened in plan["traits"].items():
        if not happened:
            continue
        if key in ContactRole.values:
            yield _row(deal, kind=rng.choice([FollowUpKind.VISIT, FollowUpKind.MEETING, FollowUpKind.CALL]),
                       at=moment(span * 0.05), stage=stage), [key]
        else:
            template = rng.choice(templates[key]) if templates.get(key) else None
            yield _row(deal, kind=template.kind if template else FollowUpKind.MEETING, at=moment(span * 0.05),
                       stage=stage, action=key, template=template), []
    for _ in range(rng.randint(1, 4)):
        yield _row(deal, kind=rng.choice([FollowUpKind.CALL, FollowUpKind.WECHAT]), at=moment(), stage=stage), []
    if closed > window_end:  # late touches of every key person: outside the window, never counted
        late = window_end + (closed - window_end) * rng.uniform(0.1, 0.9)
        yield _row(deal, kind=FollowUpKind.MEETING, at=late, stage=stage), [ContactRole.CIO, ContactRole.FINANCE]


def _row(deal, *, kind, at, stage, action=ActionKey.TOUCH, template=None) -> FollowUp:
    return FollowUp(
        opportunity_id=deal.pk, account_id=deal.account_id, author_id=deal.owner_id, kind=kind, action=action,
        template=template, summary=template.summary_zh if template else "跟进客户。", occurred_at=at,
        logged_at=at + dt.timedelta(minutes=10), stage=stage,
    )
