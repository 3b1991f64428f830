"""The pipeline view's reads: per-stage count and amount from the trigger-kept totals
(PipelineTotal: one row per stage, owner and product line), and the first cards of every
column in one UNION ALL of per-stage LIMIT queries, each walking the partial index
followups_opp_pipeline_cards and stopping at the limit.
"""
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import QuerySet, Sum

from salesflow.org.models import Member
from salesflow.org.scoping import visible_user_ids

from .models import Opportunity, PipelineTotal, Stage

CARDS_PER_COLUMN = 12


@dataclass
class Column:
    stage: Stage
    count: int = 0
    amount: Decimal = Decimal("0")
    cards: list = field(default_factory=list)

    @property
    def more(self) -> int:
        return max(0, self.count - len(self.cards))


def pipeline_totals(*, user, owner_id: int | None = None, team=None, product_line: str = "") -> QuerySet[PipelineTotal]:
    """The totals rows `user` may see, narrowed like the pipeline filter narrows opportunities."""
    qs = PipelineTotal.objects.all()
    visible = visible_user_ids(user)
    if visible is not None:
        qs = qs.filter(owner_id__in=visible)
    if owner_id is not None:
        qs = qs.filter(owner_id=owner_id)
    if team is not None:
        qs = qs.filter(owner_id__in=Member.objects.filter(team=team).values("user_id"))
    if product_line:
        qs = qs.filter(product_line=product_line)
    return qs


def pipeline_columns(*, totals: QuerySet[PipelineTotal], opportunities: QuerySet[Opportunity], stages: list[Stage],
                     cards: int = CARDS_PER_COLUMN) -> list[Column]:
    """`totals` and `opportunities` are scoped and filtered alike; cards come from the open ones."""
    columns = {stage.pk: Column(stage=stage) for stage in stages}
    for stage_id, count, amount in totals.order_by().values_list("stage_id").annotate(n=Sum("count"), total=Sum("amount")):
        if stage_id in columns:
            columns[stage_id].count, columns[stage_id].amount = count, amount or Decimal("0")
    wanted = [stage.pk for stage in stages if columns[stage.pk].count]
    if wanted:
        per_stage = [column_cards(opportunities=opportunities, stage_id=stage_id, limit=cards) for stage_id in wanted]
        combined = per_stage[0].union(*per_stage[1:], all=True) if len(per_stage) > 1 else per_stage[0]
        rows = list(combined)
        _attach_names(rows)
        for opportunity in rows:
            columns[opportunity.stage_id].cards.append(opportunity)
    return list(columns.values())


def column_cards(*, opportunities: QuerySet[Opportunity], stage_id: int, limit: int, offset: int = 0) -> QuerySet:
    return (
        opportunities.filter(is_open=True, stage_id=stage_id).select_related(None)
        .only("id", "name", "amount", "expected_close", "stage_id", "owner_id", "account_id", "light", "product_line")
        .order_by("-amount", "id")[offset:offset + limit]
    )


def _attach_names(rows: list[Opportunity]) -> None:
    """Account and owner names for the cards, two small queries instead of joins under a UNION;
    and the cards' links, built from one reverse() each instead of three per card."""
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    from .models import Account

    page = reverse("followups:opportunity", args=[0]).removesuffix("0/")
    move = reverse("followups:pipeline-move", args=[0]).removesuffix("0/move/")

    accounts = dict(Account.objects.filter(pk__in={r.account_id for r in rows}).values_list("id", "name"))
    users = {
        pk: full_name or username
        for pk, username, full_name in get_user_model().objects.filter(pk__in={r.owner_id for r in rows})
        .values_list("id", "username", "member__full_name")
    }
    for row in rows:
        row.account_name = accounts.get(row.account_id, "")
        row.owner_name = users.get(row.owner_id, "")
        row.url, row.move_url = f"{page}{row.pk}/", f"{move}{row.pk}/move/"


def column_page(*, opportunities: QuerySet[Opportunity], stage_id: int, offset: int, limit: int = CARDS_PER_COLUMN) -> list:
    rows = list(column_cards(opportunities=opportunities, stage_id=stage_id, limit=limit, offset=offset))
    _attach_names(rows)
    return rows


def stage_options(stages: list[Stage]) -> dict[int, str]:
    """The move select's options for a card in each stage (that stage selected), rendered once per page."""
    from django.utils.html import format_html, format_html_join
    from django.utils.safestring import mark_safe

    options = {}
    for current in stages:
        options[current.pk] = mark_safe(format_html_join("", "{}", (
            (format_html('<option value="{}"{}>{}</option>', stage.pk, " selected" if stage.pk == current.pk else "", stage.name),)
            for stage in stages
        )))
    return options
