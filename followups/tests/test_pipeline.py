"""The pipeline: counts and amounts per stage in scope, cards limited per column, moves through the stage service."""
from decimal import Decimal

import pytest
from django.urls import reverse

from audit.models import AuditEntry
from followups.models import Opportunity, Stage, StageChange
from followups.pipeline import CARDS_PER_COLUMN

from .factories import opportunity_make


@pytest.fixture
def deals(alpha):
    return [
        opportunity_make(owner=alpha.rep, amount=Decimal("100000"), credit=15),
        opportunity_make(owner=alpha.rep, amount=Decimal("250000"), stage="trial"),
        opportunity_make(owner=alpha.manager, amount=Decimal("50000"), stage="trial"),
        opportunity_make(owner=alpha.other_rep, amount=Decimal("999000"), stage="trial"),
        opportunity_make(owner=alpha.rep, amount=Decimal("700000"), stage="won"),
    ]


def _column(response, code):
    return next(c for c in response.context["columns"] if c.stage.code == code)


def test_each_stage_shows_the_count_and_amount_the_viewer_may_see(alpha, client_for, deals, django_assert_max_num_queries):
    client = client_for(alpha, alpha.manager)
    # Fixed whatever the data: tenant (3), settings, session, user, scope (4), stages, sums, cards, names (2), filter choices (2).
    with django_assert_max_num_queries(17):
        response = client.get(reverse("followups:pipeline"))
    trial = _column(response, "trial")
    assert (trial.count, trial.amount) == (2, Decimal("300000"))
    assert [c.amount for c in trial.cards] == [Decimal("250000"), Decimal("50000")]
    assert "won" not in [c.stage.code for c in response.context["columns"]]
    rep_view = client_for(alpha, alpha.rep).get(reverse("followups:pipeline"))
    assert (_column(rep_view, "trial").count, _column(rep_view, "initial_contact").count) == (1, 1)


def test_filters_live_in_the_query_string(alpha, client_for, deals):
    client = client_for(alpha, alpha.manager)
    response = client.get(reverse("followups:pipeline"), {"owner": alpha.rep.pk})
    assert _column(response, "trial").amount == Decimal("250000")
    assert f"owner={alpha.rep.pk}" in response.context["query"]
    partial = client.get(reverse("followups:pipeline"), {"owner": alpha.rep.pk, "partial": "board"}, HTTP_HX_REQUEST="true")
    assert partial.status_code == 200 and 'id="pipeline-board"' in partial.content.decode()
    assert "<html" not in partial.content.decode()


def test_a_column_shows_its_first_cards_and_the_rest_on_request(alpha, client_for):
    for n in range(CARDS_PER_COLUMN + 3):
        opportunity_make(owner=alpha.rep, amount=Decimal(1000 + n), stage="negotiation")
    client = client_for(alpha, alpha.rep)
    column = _column(client.get(reverse("followups:pipeline")), "negotiation")
    assert (len(column.cards), column.more) == (CARDS_PER_COLUMN, 3)
    stage = Stage.objects.get(code="negotiation")
    more = client.get(reverse("followups:pipeline"), {"stage": stage.pk, "offset": CARDS_PER_COLUMN}, HTTP_HX_REQUEST="true")
    assert more.status_code == 200 and len(more.context["cards"]) == 3 and not more.context["has_more"]


def test_moving_a_card_goes_through_the_stage_service(alpha, beta, client_for, deals):
    deal = deals[0]
    url = reverse("followups:pipeline-move", args=[deal.pk])
    demo = Stage.objects.get(code="solution_demo")
    response = client_for(alpha, alpha.rep).post(url, {"stage": demo.pk}, HTTP_HX_REQUEST="true")
    assert response.status_code == 204 and response["HX-Trigger"] == "pipeline-changed"
    assert StageChange.objects.filter(opportunity=deal, to_stage=demo).exists()
    assert AuditEntry.objects.filter(verb="opportunity.stage_changed", target_id=str(deal.pk)).exists()
    again = client_for(alpha, alpha.rep).post(url, {"stage": demo.pk}, HTTP_HX_REQUEST="true")
    assert again.status_code == 409  # the service's rule: already in that stage
    lost = Stage.objects.get(code="lost")
    assert client_for(alpha, alpha.rep).post(url, {"stage": lost.pk}, HTTP_HX_REQUEST="true").status_code == 409
    assert client_for(alpha, alpha.other_rep).post(url, {"stage": demo.pk}).status_code == 404
    assert client_for(beta, beta.admin).post(url, {"stage": demo.pk}).status_code == 404
    plain = client_for(alpha, alpha.manager).post(url, {"stage": Stage.objects.get(code="trial").pk})
    assert plain.status_code == 302
    assert Opportunity.objects.get(pk=deal.pk).stage.code == "trial"


def test_the_opportunity_list_selects_rows_for_a_bulk_reassignment(alpha, client_for, deals, django_assert_max_num_queries):
    client = client_for(alpha, alpha.manager)
    with django_assert_max_num_queries(14):
        response = client.get(reverse("followups:opportunities"))
    assert response.status_code == 200 and 'name="ids"' in response.content.decode()
    assert 'name="ids"' not in client_for(alpha, alpha.rep).get(reverse("followups:opportunities")).content.decode()
    mine, outsider = deals[1], deals[3]
    response = client.post(reverse("followups:opportunities-bulk-reassign"),
                           {"ids": [mine.pk, outsider.pk, deals[2].pk], "new_owner": alpha.rep.pk})
    assert response.status_code == 200
    outcomes = {o.item_id: o for o in response.context["outcomes"]}
    assert outcomes[mine.pk].ok is False and outcomes[mine.pk].message  # it is the rep's already: said why
    assert outcomes[deals[2].pk].ok and response.context["missing"] == [outsider.pk]
    assert Opportunity.objects.get(pk=deals[2].pk).owner == alpha.rep
    assert Opportunity.objects.get(pk=outsider.pk).owner == alpha.other_rep
    assert client_for(alpha, alpha.rep).post(reverse("followups:opportunities-bulk-reassign"),
                                             {"ids": [mine.pk], "new_owner": alpha.rep.pk}).status_code == 403


def test_the_trigger_kept_totals_match_the_open_opportunities_after_every_kind_of_write(alpha):
    from django.db.models import Count, Sum

    from followups.models import PipelineTotal
    from followups.services import opportunity_reassign, opportunity_stage_change, opportunity_update

    def totals():
        kept = {(t["stage_id"], t["owner_id"], t["product_line"]): (t["count"], t["amount"])
                for t in PipelineTotal.objects.values() if t["count"]}
        actual = {(r["stage_id"], r["owner_id"], r["product_line"]): (r["n"], r["total"])
                  for r in Opportunity.objects.filter(is_open=True).values("stage_id", "owner_id", "product_line")
                  .annotate(n=Count("*"), total=Sum("amount"))}
        return kept, actual

    a = opportunity_make(owner=alpha.rep, amount=Decimal("100000"))
    b = opportunity_make(owner=alpha.rep, amount=Decimal("200000"), stage="trial", credit=25)
    Opportunity.objects.bulk_create([Opportunity(account=a.account, name="导入", owner=alpha.rep, stage=a.stage,
                                                 amount=Decimal("5"), product_line="耗材")])
    opportunity_update(actor=alpha.rep, opportunity=a, amount=Decimal("150000"), product_line="影像设备")
    opportunity_stage_change(actor=alpha.rep, opportunity=b, to_stage=Stage.objects.get(code="won"), via="web")
    opportunity_reassign(actor=alpha.manager, opportunity=a, new_owner=alpha.manager)
    kept, actual = totals()
    assert kept == actual and len(actual) == 2
    Opportunity.objects.filter(pk=a.pk).update(light=3)  # a clock update does not touch the totals
    Opportunity.objects.filter(name="导入").delete()
    kept, actual = totals()
    assert kept == actual and len(actual) == 1
