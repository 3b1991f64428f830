"""seed_demo: 26 weeks of deal history for the forecast, then its snapshots rebuilt.

Each deal has a hidden quality q ∈ [0, 1] that decides whether it is won (P = 0.08 + 0.6 q).
The evidence its rep collects follows q with strength `--evidence-signal` s: how many items and
how strong they are is s·(a function of q) + (1 − s)·(the same function of an unrelated draw).
With s = 0 the credit score carries no information about the outcome, so the credit method must
not beat the stage method beyond noise; benchmarks run both. The stages a rep records follow
the calendar more than the deal: a deal that will be lost climbs to a stage drawn regardless of
its quality before it dies, so a stage says something (survival) but less than verified evidence.

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
from .services.forecast_commit import commit_current_refresh
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
            [Account(name=f"示例客户·{n + 1}", owner_id=rng.choice(reps)) for n in range(max(1, count // 3))],
            batch_size=BATCH,
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
    tz = start.tzinfo
    created = start + (now - start) * rng.random() ** 0.8
    # The outcome follows quality. The stages a rep records follow the calendar more than the deal:
    # a deal that will be lost still climbs (to a stage drawn regardless of its quality) before it dies.
    outcome = won if rng.random() < 0.08 + 0.6 * quality else lost
    reach = len(open_stages) - 1 if outcome == won else rng.randint(0, len(open_stages) - 1)
    moves, moment = [(created, open_stages[0], None)], created
    for index in range(1, reach + 1):
        moment = moment + dt.timedelta(days=rng.uniform(5, 21))
        moves.append((moment, open_stages[index], open_stages[index - 1]))
    moment = moment + dt.timedelta(days=rng.uniform(5, 21))
    closed_at = moment
    if closed_at <= now:
        moves.append((closed_at, outcome, moves[-1][1]))
    moves = [m for m in moves if m[0] <= now]
    end = min(closed_at, now)
    # The close date the rep types: a guess at the end of the path, revised when it passes unmet.
    guess = (closed_at + dt.timedelta(days=rng.gauss(0, 7))).date()  # right on average, a week off either way
    guess = max(guess, created.date() + dt.timedelta(days=7))
    closes = [(created, guess)]
    while True:
        passed = dt.datetime.combine(closes[-1][1], dt.time(18), tzinfo=tz)
        if passed >= end:
            break
        closes.append((passed, closes[-1][1] + dt.timedelta(weeks=rng.randint(1, 4))))
    if closed_at <= now:
        closes.append((closed_at, closed_at.astimezone(tz).date()))  # recorded when it closed
    amount = Decimal(rng.choice(AMOUNTS)) * 10000
    amounts = [(created, amount)]
    if rng.random() < 0.3:
        at = created + (end - created) * rng.uniform(0.2, 0.9)
        amounts.append((at, (amount * Decimal(str(round(rng.uniform(0.7, 1.3), 2)))).quantize(Decimal("1"))))
    # Evidence: how much and how strong follows quality with strength `signal`.
    felt = signal * quality + (1 - signal) * rng.random()
    weeks_open = max(1 / 7, (end - created).total_seconds() / 604800)
    items = max(0, round(weeks_open * (0.2 + 1.6 * felt) + rng.uniform(-0.5, 0.5)))
    evidence = []
    for _ in range(items):
        draw = rng.random()
        level = (EvidenceLevel.STRONG if draw < 0.03 + 0.3 * felt
                 else EvidenceLevel.MEDIUM if draw < 0.15 + 0.5 * felt else EvidenceLevel.WEAK)
        at = created + (end - created) * rng.random()
        evidence.append({"level": level, "points": POINTS[level], "at": at, "review": None})
    for item in evidence:
        if item["level"] == EvidenceLevel.MEDIUM and rng.random() < 0.06:
            item["review"] = item["at"] + (end - item["at"]) * rng.uniform(0.1, 0.9)
    # Commit: some weeks before each close date the rep calls it, on a hunch (and some optimism).
    commits = []
    for at, close_day in closes:
        call_at = dt.datetime.combine(close_day, dt.time(9), tzinfo=tz) - dt.timedelta(days=rng.randint(8, 45))
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
    commit_current_refresh()
    return {"stage_changes": len(changes), "changes": len(records), "evidence": len(created),
            "reviews": len(reviews), "commits": len(commits)}
