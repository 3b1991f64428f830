"""The pipeline by stage, moves by drag (desktop) or tap (phone), and bulk reassignment."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from salesflow.org.scoping import is_manager

from . import selectors
from .filters import PipelineFilter
from .forms import BulkReassignForm, PipelineMoveForm
from .models import Outcome, Stage
from .pipeline import CARDS_PER_COLUMN, column_page, pipeline_columns, pipeline_totals, stage_options
from .services import opportunities_bulk_reassign, opportunity_stage_change
from .views import _client_ip, _member_or_404, _opportunity_or_404, _via
from .views_records import _int_or_none

OPPORTUNITIES_PAGE_SIZE = 50


def _filtered(request):
    base = selectors.opportunity_list(user=request.user).select_related(None)
    pipeline_filter = PipelineFilter(request.GET or None, queryset=base, user=request.user)
    qs = pipeline_filter.qs if pipeline_filter.is_bound and pipeline_filter.is_valid() else base
    return pipeline_filter, qs


def _totals(request, pipeline_filter):
    data = pipeline_filter.form.cleaned_data if pipeline_filter.is_bound and pipeline_filter.is_valid() else {}
    owner = data.get("owner")
    return pipeline_totals(user=request.user, owner_id=owner.user_id if owner else None, team=data.get("team"),
                           product_line=data.get("product_line") or "")


def _query(request, *drop) -> str:
    query = request.GET.copy()
    for name in ("page", "offset", "partial", *drop):
        query.pop(name, None)
    return query.urlencode()


@login_required
@vary_on_headers("HX-Request")
def pipeline(request):
    """Columns per open stage with count and amount; htmx asks for the board region or one column's next cards."""
    _member_or_404(request.user)
    pipeline_filter, qs = _filtered(request)
    all_stages = list(Stage.objects.order_by("position", "id"))
    stages = [s for s in all_stages if s.outcome == Outcome.OPEN]
    won_stages = [s for s in all_stages if s.outcome == Outcome.WON]
    card_context = {"stage_options": stage_options(stages + won_stages), "move_label": _("move to"), "move_button": _("Move")}
    stage_id, offset = _int_or_none(request.GET.get("stage")), _int_or_none(request.GET.get("offset"))
    if request.htmx and stage_id is not None and offset is not None:
        cards = column_page(opportunities=qs, stage_id=stage_id, offset=offset)
        context = {"cards": cards, "stage_id": stage_id, "next_offset": offset + CARDS_PER_COLUMN,
                   "has_more": len(cards) == CARDS_PER_COLUMN, "query": _query(request, "stage"), **card_context}
        return render(request, "followups/_pipeline_cards.html", context)
    columns = pipeline_columns(totals=_totals(request, pipeline_filter), opportunities=qs, stages=stages)
    context = {
        "filter": pipeline_filter, "columns": columns, "query": _query(request, "stage"), **card_context,
        "total_count": sum(c.count for c in columns), "total_amount": sum(c.amount for c in columns),
        "page_size": CARDS_PER_COLUMN,
    }
    template = "followups/_pipeline_board.html" if request.htmx and request.GET.get("partial") == "board" else "followups/pipeline.html"
    return render(request, template, context)


@login_required
@require_POST
def pipeline_move(request, opportunity_id: int):
    """A card moved: through the stage service, so its rules (and their refusals) apply."""
    opportunity = _opportunity_or_404(request.user, opportunity_id)
    if opportunity.owner_id != request.user.pk and not is_manager(request.user):
        raise PermissionDenied(_("Only the owner or a manager moves this opportunity."))
    form = PipelineMoveForm(request.POST)
    error = None
    if not form.is_valid():
        error = _("Pick a stage.")
    else:
        try:
            opportunity_stage_change(actor=request.user, opportunity=opportunity, to_stage=form.cleaned_data["stage"],
                                     via=_via(request), ip=_client_ip(request))
        except ValidationError as exc:
            error = "; ".join(exc.messages)
    back = reverse("followups:pipeline") + ("?" + request.POST.get("query", "") if request.POST.get("query") else "")
    if request.htmx:
        if error:
            response = HttpResponse(error, status=409, content_type="text/plain; charset=utf-8")
            return response
        response = HttpResponse(status=204)
        response["HX-Trigger"] = "pipeline-changed"
        return response
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("Stage changed."))
    return redirect(back)


@login_required
@vary_on_headers("HX-Request")
def opportunity_index(request):
    """Opportunities in scope, filterable; managers select rows to hand them over at once."""
    _member_or_404(request.user)
    pipeline_filter, qs = _filtered(request)
    qs = qs.select_related("account", "stage", "owner__member").filter(is_open=True).order_by("-amount", "id")
    stage_id = _int_or_none(request.GET.get("stage"))
    if stage_id is not None:
        qs = qs.filter(stage_id=stage_id)
    page = Paginator(qs, OPPORTUNITIES_PAGE_SIZE).get_page(request.GET.get("page"))
    manager = is_manager(request.user)
    context = {"filter": pipeline_filter, "page": page, "query": _query(request),
               "bulk_form": BulkReassignForm(user=request.user) if manager else None}
    return render(request, "followups/opportunities.html", context)


@login_required
@require_POST
def opportunity_bulk_reassign(request):
    _member_or_404(request.user)
    if not is_manager(request.user):
        raise PermissionDenied(_("Only managers reassign."))
    form = BulkReassignForm(request.POST, user=request.user)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(reverse("followups:opportunities") + "?" + request.POST.get("query", ""))
    ids = form.cleaned_data["ids"]
    found = {o.pk: o for o in selectors.opportunity_list(user=request.user).filter(pk__in=ids)}
    outcomes = opportunities_bulk_reassign(actor=request.user, opportunities=[found[i] for i in ids if i in found],
                                           new_owner=form.cleaned_data["new_owner"])
    missing = [i for i in ids if i not in found]
    return render(request, "followups/bulk_result.html", {
        "outcomes": outcomes, "missing": missing, "back": reverse("followups:opportunities"),
        "title": _("Reassign opportunities"),
    })
