"""Demo targets for seed_demo: this month, last month and this quarter at every level, with product lines.

Each rep's monthly target follows their trailing won amounts (so attainment looks like a
real month); teams add up their reps, regions their teams, the company its regions — except
one region whose director set a target above what its teams add up to, so the targets page
has a gap to show.
"""
import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from audit.services import audit_record
from followups.models import Opportunity, Outcome
from salesflow.org.models import Member, Region, Role, Team
from salesflow.org.selectors import tenant_settings_get

from .models_targets import PeriodKind, Target, TargetLevel
from .services.periods import Period, period_of

WAN = Decimal(10_000)
FLOOR = 20 * WAN
# The region whose teams fall short of its target, and by how much (in 万).
SHORT_REGION_GAP = 80 * WAN


def _round_wan(value: Decimal, step: int = 5) -> Decimal:
    return max(FLOOR, (value / (step * WAN)).quantize(Decimal(1)) * step * WAN)


def _trailing_monthly_won(days: int = 90) -> dict[int, Decimal]:
    since = timezone.now() - dt.timedelta(days=days)
    rows = (Opportunity.objects.filter(stage__outcome=Outcome.WON, stage_entered_at__gte=since)
            .values("owner_id").annotate(total=Sum("amount")))
    return {row["owner_id"]: row["total"] * 30 / days for row in rows}


def _put(period: Period, level: str, amount: Decimal, *, owner_id=None, region=None, team=None, rep_id=None, line=""):
    Target.objects.update_or_create(
        period_kind=period.kind, period_start=period.start, level=level, region=region, team=team, rep_id=rep_id,
        product_line=line,
        defaults={"amount": amount, "owner_id": owner_id, "deadline": period.last_day},
    )


def _seed_period(rng, period: Period, *, factor: int, base: dict[int, Decimal], short_region_id: int, admin_id) -> int:
    count = 0
    reps = list(Member.objects.filter(role=Role.REP, team__isnull=False).select_related("team"))
    team_totals: dict[int, Decimal] = defaultdict(Decimal)
    team_lines: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for rep in reps:
        amount = _round_wan(base.get(rep.user_id, FLOOR) * Decimal(str(rng.uniform(0.9, 1.4)))) * factor
        _put(period, TargetLevel.REP, amount, owner_id=rep.user_id, rep_id=rep.user_id)
        team_totals[rep.team_id] += amount
        lines = rep.product_lines or [""]
        for line in lines:
            if line:
                team_lines[rep.team_id][line] += (amount / len(lines)).quantize(WAN)
        count += 1
    region_totals: dict[int, Decimal] = defaultdict(Decimal)
    region_lines: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for team in Team.objects.all():
        total = team_totals.get(team.pk, Decimal(0))
        if not total:
            continue
        _put(period, TargetLevel.TEAM, total, owner_id=team.manager_id, team=team)
        region_totals[team.region_id] += total
        for line, amount in team_lines[team.pk].items():
            _put(period, TargetLevel.TEAM, amount, owner_id=team.manager_id, team=team, line=line)
            region_lines[team.region_id][line] += amount
            count += 1
        count += 1
    company = Decimal(0)
    for region in Region.objects.filter(pk__in=region_totals):
        total = region_totals[region.pk] + (SHORT_REGION_GAP * factor if region.pk == short_region_id else 0)
        _put(period, TargetLevel.REGION, total, owner_id=region.director_id, region=region)
        for line, amount in region_lines[region.pk].items():
            _put(period, TargetLevel.REGION, amount, owner_id=region.director_id, region=region, line=line)
            count += 1
        company += total
        count += 1
    _put(period, TargetLevel.COMPANY, company, owner_id=admin_id)
    return count + 1


def seed_targets(*, rng, options) -> str:
    """Idempotent for the same tenant and seed."""
    today = timezone.now().astimezone(tenant_settings_get().tzinfo).date()
    base = _trailing_monthly_won()
    regions = list(Region.objects.filter(teams__isnull=False).distinct().order_by("name"))
    if not regions:
        return "no teams: no targets"
    short_region = regions[-1]
    admin_id = Member.objects.filter(role=Role.ADMIN).values_list("user_id", flat=True).first()
    with transaction.atomic():
        month = period_of(PeriodKind.MONTH, today)
        count = 0
        # Last month too: a finished month shows full attainment next to the one just started.
        for period in (month.previous(), month):
            count += _seed_period(rng, period, factor=1, base=base, short_region_id=short_region.pk, admin_id=admin_id)
        count += _seed_period(rng, period_of(PeriodKind.QUARTER, today), factor=3, base=base,
                              short_region_id=short_region.pk, admin_id=admin_id)
        audit_record(actor="seed_demo", verb="demo.targets_seeded", target_type="forecasting.target",
                     payload={"targets": count, "short_region": short_region.name, "seed": options["seed"]})
    return f"{count} targets (this and last month, this quarter), {short_region.name} short of its teams"
