"""seed_demo: 26 weeks of deal history for the forecast, then its snapshots rebuilt.

Each deal has a hidden quality q ∈ [0, 1] that decides whether it is won. The evidence its
rep collects follows q with strength `--evidence-signal` s: how many items and how strong
they are is s·(a function of q) + (1 − s)·(the same function of an unrelated draw). With
s = 0 the credit score carries no information about the outcome, so the credit method must
not beat the stage method beyond noise; benchmarks run both. Stages, by contrast, follow
how far a deal got (a lost deal tends to die early), as in life.

Close dates slip, amounts change, deals are created mid-period, reps commit deals they feel
good about (with optimism of their own). Everything is bulk-inserted as it would have been
recorded — StageChange, RecordChange, Evidence, EvidenceReview, CommitEntry with past
timestamps — then the 26 past weeks' snapshots are rebuilt "as known then" and this week's
is frozen.
"""
import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from followups.models import Account, Opportunity, Outcome, RecordChange, RecordKind, Stage, StageChange
from salesflow.org.models import Member, Role

from .models import Evidence, EvidenceLevel, EvidenceReview, EvidenceSource
from .models_forecast import CommitCategory, CommitEntry, ForecastSnapshot
from .snapshots import history_rebuild, snapshot_take
from .weeks import monday_of

BATCH = 5000
WEEKS = 26
REALISTIC_SIGNAL = 0.6
POINTS = {EvidenceLevel.STRONG: 10, EvidenceLevel.MEDIUM: 6, EvidenceLevel.WEAK: 2}
SOURCES = {
    EvidenceLevel.STRONG: EvidenceSource.CUSTOMER_CONFIRMATION,
    EvidenceLevel.MEDIUM: EvidenceSource.MINUTES,
    EvidenceLevel.WEAK: EvidenceSource.NOTE,
}
AMOUNTS = [8, 15, 30, 50, 80, 120, 260, 600]


def seed_forecast(*, rng, options) -> str:
    """The demo's forecast history; does nothing when snapshots exist already."""
    if ForecastSnapshot.objects.exists():
        return "forecast snapshots exist; nothing seeded"
    signal = options.get("evidence_signal")
    signal = REALISTIC_SIGNAL if signal is None else signal
    count = max(600, 2 * options["opportunities"])
    now = timezone.now()
    summary = forecast_history_seed(rng=rng, count=count, signal=signal, now=now)
    rebuilt = history_rebuild(now=now, weeks=WEEKS)
    snapshot_take(now=now)
    return f"{summary}, {len(rebuilt)} weekly snapshots rebuilt (evidence signal {signal})"


def forecast_history_seed(*, rng, count: int, signal: float, now: dt.datetime) -> str:
    reps = list(Member.objects.filter(role=Role.REP).values_list("user_id", flat=True)) or list(
        Member.objects.values_list("user_id", flat=True)
    )
    if not reps:
        return "no members; nothing seeded"
    accounts = list(Account.objects.values_list("id", "owner_id")[:5000])
    if not accounts:
        accounts = [(a.pk, a.owner_id) for a in Account.objects.bulk_create(
            [Account(name=f"示例客户·{n + 1}", owner_id=rng.choice(reps)) for n in range(max(1, count // 3))]
        )]
    stages = list(Stage.objects.order_by("position"))
    open_stages = [s for s in stages if s.outcome == Outcome.OPEN]
    won = next(s for s in stages if s.outcome == Outcome.WON)
    lost = next(s for s in stages if s.outcome == Outcome.LOST)
    start = now - dt.timedelta(weeks=WEEKS + 8)

    plans = [_plan(rng, signal=signal, start=start, now=now, open_stages=open_stages, won=won, lost=lost)
             for _ in range(count)]
    with transaction.atomic():
        opportunities = []
        for plan in plans:
            account_id, _ = rng.choice(accounts)
            final_stage = plan["moves"][-1][1]
            opportunities.append(Opportunity(
                account_id=account_id, name=plan["name"], owner_id=rng.choice(reps), stage=final_stage,
                amount=plan["amounts"][-1][1], expected_close=plan["closes"][-1][1], product_line="",
                created_at=plan["created"], is_open=final_stage.outcome == Outcome.OPEN,
                stage_entered_at=plan["moves"][-1][0], last_activity_at=max(plan["moves"][-1][0], plan["created"]),
                credit_score=sum(e["points"] for e in plan["evidence"]),
                lost_reason="预算被削减" if final_stage.outcome == Outcome.LOST else "",
            ))
        opportunities = Opportunity.objects.bulk_create(opportunities, batch_size=BATCH)
        counts = _write_history(opportunities, plans)
        audit_record(
            actor="seed_demo", verb="demo.forecast_history_seeded", target_type="followups.opportunity",
            payload={"opportunities": len(opportunities), "weeks": WEEKS, "evidence_signal": signal, **counts},
        )
    return f"{len(opportunities)} deals over {WEEKS} weeks, {counts['evidence']} evidence, {counts['changes']} record changes"


def _plan(rng, *, signal, start, now, open_stages, won, lost) -> dict:
    quality = rng.random()
    created = start + (now - start) * rng.random() ** 0.8
    weeks_to_close = rng.uniform(3, 12)
    close = (created + dt.timedelta(weeks=weeks_to_close)).date()
    closes = [(created, close)]
    amount = Decimal(rng.choice(AMOUNTS)) * 10000
    amounts = [(created, amount)]
    # Slips: the close date moves later, recorded some days before the date it replaces.
    moment = created
    while rng.random() < 0.35 and len(closes) < 4:
        moment = moment + (dt.datetime.combine(closes[-1][1], dt.time(10), tzinfo=created.tzinfo) - moment) * rng.uniform(0.4, 0.9)
        closes.append((moment, closes[-1][1] + dt.timedelta(weeks=rng.randint(1, 4))))
    closes = [c for c in closes if c[0] <= now]  # slips still to come have not been recorded
    if rng.random() < 0.3:
        at = created + (dt.datetime.combine(closes[-1][1], dt.time(10), tzinfo=created.tzinfo) - created) * rng.uniform(0.2, 0.8)
        amounts.append((at, (amount * Decimal(str(round(rng.uniform(0.7, 1.3), 2)))).quantize(Decimal("1"))))
    amounts = [a for a in amounts if a[0] <= now]
    final_close = closes[-1][1]
    closed_at = dt.datetime.combine(final_close, dt.time(rng.randint(9, 17)), tzinfo=created.tzinfo) + dt.timedelta(
        days=rng.randint(-3, 3))
    is_won = rng.random() < 0.1 + 0.7 * quality
    end = min(closed_at, now)
    # Stages: won deals climb to the top; lost ones stall somewhere on the way.
    reach = len(open_stages) - 1 if is_won else min(len(open_stages) - 1, int(rng.random() * (1 + 3 * quality) * 1.3))
    moves = [(created, open_stages[0], None)]
    for index in range(1, reach + 1):
        at = created + (end - created) * (index / (reach + 1.5)) * rng.uniform(0.85, 1.0)
        moves.append((at, open_stages[index], open_stages[index - 1]))
    if closed_at <= now:
        moves.append((closed_at, won if is_won else lost, moves[-1][1]))
    # Evidence: its amount and strength follow quality with strength `signal`.
    felt = signal * quality + (1 - signal) * rng.random()
    span_days = max(1.0, (end - created).total_seconds() / 86400)
    items = max(0, round(span_days / 7 * (0.5 + 1.8 * felt) + rng.uniform(-1, 1)))
    evidence = []
    for _ in range(items):
        draw = rng.random()
        level = (EvidenceLevel.STRONG if draw < 0.05 + 0.35 * felt
                 else EvidenceLevel.MEDIUM if draw < 0.25 + 0.45 * felt else EvidenceLevel.WEAK)
        at = created + (end - created) * rng.random()
        evidence.append({"level": level, "points": POINTS[level], "at": at, "review": None})
    for item in evidence:
        if item["level"] == EvidenceLevel.MEDIUM and rng.random() < 0.06:
            item["review"] = item["at"] + (end - item["at"]) * rng.uniform(0.1, 0.9)
    # Commit: about two weeks before the close date the rep calls it, optimistically.
    commits = []
    for at, close_day in closes:
        call_at = dt.datetime.combine(close_day, dt.time(9), tzinfo=created.tzinfo) - dt.timedelta(days=rng.randint(8, 45))
        if at <= call_at < end:
            hunch = 0.5 * quality + 0.5 * rng.random() + 0.1
            category = (CommitCategory.COMMIT if hunch > 0.6 else CommitCategory.BEST_CASE if hunch > 0.4
                        else CommitCategory.PIPELINE)
            commits.append((call_at, category, monday_of(close_day)))
    return {"name": f"{'扩容' if rng.random() < 0.3 else '采购'}项目·{rng.randint(1000, 9999)}", "created": created,
            "closes": closes, "amounts": amounts, "moves": moves, "evidence": evidence, "commits": commits}


def _write_history(opportunities, plans) -> dict:
    changes, records, evidence, commits = [], [], [], []
    for opp, plan in zip(opportunities, plans):
        for at, to_stage, from_stage in plan["moves"]:
            changes.append(StageChange(opportunity_id=opp.pk, from_stage=from_stage, to_stage=to_stage,
                                       actor_id=opp.owner_id, actor_label="seed_demo", at=at, via="import"))
        for field, series in (("amount", plan["amounts"]), ("expected_close", plan["closes"])):
            previous = None
            for index, (at, value) in enumerate(series):
                value = str(value) if field == "amount" else value.isoformat()
                records.append(RecordChange(
                    record_type=RecordKind.OPPORTUNITY, record_id=opp.pk, account_id=opp.account_id, field=field,
                    old_value=previous, new_value=value, actor_id=opp.owner_id, actor_label="seed_demo", at=at,
                    via="import", at_creation=index == 0,
                ))
                previous = value
        for item in plan["evidence"]:
            evidence.append((Evidence(
                opportunity_id=opp.pk, source=SOURCES[item["level"]],
                level=EvidenceLevel.WEAK if item["review"] else item["level"],
                points=POINTS[EvidenceLevel.WEAK] if item["review"] else item["points"],
                state="downgraded" if item["review"] else "accepted", created_by_id=opp.owner_id,
                created_at=item["at"],
            ), item))
        for at, category, period in plan["commits"]:
            commits.append(CommitEntry(opportunity_id=opp.pk, category=category, period=period,
                                       set_by_id=opp.owner_id, at=at))
    StageChange.objects.bulk_create(changes, batch_size=BATCH)
    RecordChange.objects.bulk_create(records, batch_size=BATCH)
    created = Evidence.objects.bulk_create([e for e, _ in evidence], batch_size=BATCH)
    reviews = [
        EvidenceReview(evidence=row, action=EvidenceReview.Action.DOWNGRADE, level_before=EvidenceLevel.MEDIUM,
                       level_after=EvidenceLevel.WEAK, points_before=POINTS[EvidenceLevel.MEDIUM],
                       points_after=POINTS[EvidenceLevel.WEAK], reason="纪要未体现客户确认", at=item["review"])
        for row, (_, item) in zip(created, evidence) if item["review"]
    ]
    EvidenceReview.objects.bulk_create(reviews, batch_size=BATCH)
    CommitEntry.objects.bulk_create(commits, batch_size=BATCH)
    return {"stage_changes": len(changes), "changes": len(records), "evidence": len(created),
            "reviews": len(reviews), "commits": len(commits)}
