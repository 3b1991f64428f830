"""The forecast board (manager), its drill-down, reps' commit page, adjustments and the accuracy page."""
import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from followups.models import Opportunity
from salesflow.org.models import Region, Team
from salesflow.org.scoping import is_admin, is_manager, managed_teams, member_for, scope_by_owner

from .accuracy.calibration import calibration
from .accuracy.measure import accuracy_measure
from .accuracy.scores import PAGE_METHODS
from .filters_forecast import ForecastFilter
from .forms_forecast import AccuracyForm, AdjustForm, CommitForm
from .models_forecast import CommitAdjustment, CommitCategory, ForecastSnapshot
from .services.forecast_board import (
    WEEKS_AHEAD, board_weeks, fit_current, residual_by_lead, week_opportunities, with_forecast,
)
from .services.forecast_commit import commit_adjust, commit_set
from .services.forecast_weights import IN_WEEK_SHARE, PRIOR_STRENGTH
from .weeks import tenant_tz, week_start


def directed_regions(user):
    return Region.objects.filter(director=user)


def _manager_only(user):
    if member_for(user) is None:
        raise Http404
    if not is_manager(user):
        raise PermissionDenied(_("Managers only."))


def _filtered(request) -> ForecastFilter:
    """The board's scope; a filter value outside the viewer's scope is a 404, not a silent empty board."""
    board_filter = ForecastFilter(request.GET, queryset=scope_by_owner(Opportunity.objects.all(), request.user),
                                  user=request.user, request=request)
    if not board_filter.is_valid():
        raise Http404
    return board_filter


def _query(request, *drop) -> str:
    params = request.GET.copy()
    for key in ("partial", "week", *drop):
        params.pop(key, None)
    return params.urlencode()


@login_required
def forecast_index(request):
    """/forecast/: the board for a manager, the commit page for a rep (it used to be a 404)."""
    if member_for(request.user) is None:
        raise Http404
    return redirect("forecasting:board" if is_manager(request.user) else "forecasting:commits")


CURVE_LEADS = (0, 1, 2, 4, 8)  # the weight table's columns: a few leads, readable on a phone


def _residual_scope(board_filter) -> tuple[str, list | None]:
    """(roll-up level, keys) of the board's scope, for the frozen residual."""
    data = board_filter.form.cleaned_data
    if data.get("owner"):
        return "rep", [data["owner"].user_id]
    if data.get("team"):
        return "team", [data["team"].pk]
    if data.get("region"):
        return "region", [data["region"].pk]
    team_ids = board_filter.team_ids()
    return ("company", None) if team_ids is None else ("team", team_ids)


@login_required
def board(request):
    _manager_only(request.user)
    board_filter = _filtered(request)
    now = timezone.now()
    first_week = week_start(now, tenant_tz())
    board_fit = fit_current(now)
    level, keys = _residual_scope(board_filter)
    bars = board_weeks(board_filter.qs, now=now, first_week=first_week, board_fit=board_fit,
                       team_ids=board_filter.team_ids(), residual=residual_by_lead(board_fit, level=level, keys=keys))
    chart = {
        "labels": [bar.week.isoformat() for bar in bars],
        "weighted": [float(bar.weighted) for bar in bars],
        "residual": [float(bar.residual) for bar in bars],
        "stage": [float(bar.stage_weighted) for bar in bars],
        "committed": [float(bar.committed_effective) for bar in bars],
        "warning": [float(bar.warning) for bar in bars],
        "names": {"weighted": _("credit-weighted pipeline"), "residual": _("not yet in the pipeline"),
                  "stage": _("stage-weighted"), "committed": _("committed"),
                  "warning": _("warning line (0.7 × committed)")},
    }
    shown = [lead for lead in CURVE_LEADS if lead < WEEKS_AHEAD]
    curve_rows = [(band, [board_fit.fit.at(lead).bands[band.index] for lead in shown])
                  for band in board_fit.fit.at(0).bands]
    context = {"filter": board_filter, "bars": bars, "chart": chart, "query": _query(request), "curve_rows": curve_rows,
               "curve_leads": shown, "pooled": [board_fit.fit.at(lead) for lead in shown],
               "weeks_ahead": WEEKS_AHEAD, "below": [bar for bar in bars if bar.below],
               "prior_strength": PRIOR_STRENGTH, "in_week_share": IN_WEEK_SHARE}
    if request.htmx and request.GET.get("partial") == "board":
        return render(request, "forecasting/_board.html", context)
    adjustable = Team.objects.all() if is_admin(request.user) else managed_teams(request.user)
    context.update({
        "adjust_form": AdjustForm(initial={"week": first_week}), "adjustable_teams": adjustable.order_by("name"),
        "adjustments": CommitAdjustment.objects.filter(team__in=adjustable, period__gte=first_week)
        .select_related("team", "by__member").order_by("-at")[:20],
        "snapshot": ForecastSnapshot.objects.order_by("-week").first(),
    })
    return render(request, "forecasting/board.html", context)


@login_required
def board_week(request):
    """Drill-down: the opportunities behind one bar, with their credit and evidence count."""
    _manager_only(request.user)
    board_filter = _filtered(request)
    try:
        week = dt.date.fromisoformat(request.GET.get("week", ""))
    except ValueError:
        raise Http404 from None
    now = timezone.now()
    first_week = week_start(now, tenant_tz())
    if week.weekday() or not first_week <= week < first_week + dt.timedelta(weeks=WEEKS_AHEAD):
        raise Http404
    rows = week_opportunities(board_filter.qs, week=week, first_week=first_week, board_fit=fit_current(now))
    rows = rows.annotate(evidence_count=Count("evidence"))[:200]
    return render(request, "forecasting/_week.html", {"week": week, "rows": rows, "query": _query(request),
                                                      "lead": (week - first_week).days // 7})


@login_required
def commits(request):
    """A rep's open deals of the coming weeks, each with its commit category (managers: their scope)."""
    if member_for(request.user) is None:
        raise Http404
    now = timezone.now()
    first_week = week_start(now, tenant_tz())
    opportunities = scope_by_owner(Opportunity.objects.all(), request.user).filter(
        expected_close__lt=first_week + dt.timedelta(weeks=WEEKS_AHEAD))
    rows = (with_forecast(opportunities, first_week=first_week)
            .select_related("stage", "account", "owner__member").order_by("expected_close", "id")[:300])
    return render(request, "forecasting/commits.html", {"rows": rows, "categories": CommitCategory.choices})


@login_required
@require_POST
def commit_update(request, opportunity_id: int):
    opportunity = scope_by_owner(Opportunity.objects.all(), request.user).filter(pk=opportunity_id).first()
    if opportunity is None:
        raise Http404
    if opportunity.owner_id != request.user.pk and not is_manager(request.user):
        raise PermissionDenied(_("Only the owner or their manager sets the commit category."))
    form = CommitForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(_("Pick commit, best case, pipeline or omitted."))
        commit_set(actor=request.user, opportunity=opportunity, category=form.cleaned_data["category"])
        messages.success(request, _("Commit category saved."))
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    return redirect(reverse("forecasting:commits"))


@login_required
@require_POST
def adjust(request):
    _manager_only(request.user)
    teams = Team.objects.all() if is_admin(request.user) else managed_teams(request.user)
    team_id = request.POST.get("team", "")
    if not team_id.isdigit():
        raise Http404
    team = get_object_or_404(teams, pk=int(team_id))
    form = AdjustForm(request.POST)
    if not form.is_valid():
        messages.error(request, "; ".join(f"{form.fields[f].label}: {' '.join(e)}" for f, e in form.errors.items()))
    else:
        try:
            commit_adjust(actor=request.user, team=team, week=form.cleaned_data["week"],
                          amount=form.cleaned_data["amount"], note=form.cleaned_data["note"])
            messages.success(request, _("Committed figure adjusted."))
        except ValidationError as exc:
            messages.error(request, "; ".join(exc.messages))
    return redirect(reverse("forecasting:board") + f"?team={team.pk}")


def method_names() -> dict[str, str]:
    return {"credit": _("credit-weighted"), "stage": _("stage-probability (as typed)"),
            "stage_fitted": _("stage, fitted like credit"), "commit": _("rep commit"),
            "runrate": _("trailing 4-week run rate")}


@login_required
def accuracy(request):
    _manager_only(request.user)
    board_filter = _filtered(request)
    form = AccuracyForm(request.GET if "lead" in request.GET or "period" in request.GET else None)
    if form.is_bound and not form.is_valid():
        raise Http404
    chosen = form.cleaned_data if form.is_bound else {}
    lead = chosen.get("lead") or 4
    monthly = chosen.get("period") == "month"
    data = board_filter.form.cleaned_data
    visible_all = board_filter.team_ids() is None
    if data.get("team"):
        scope, scope_id, scope_name = "team", data["team"].pk, data["team"].name
    elif data.get("region"):
        scope, scope_id, scope_name = "region", data["region"].pk, data["region"].name
    elif visible_all:
        scope, scope_id, scope_name = "company", None, _("whole company")
    elif (region := directed_regions(request.user).order_by("parent_id", "name").first()) is not None:
        scope, scope_id, scope_name = "region", region.pk, region.name
    else:
        team = managed_teams(request.user).order_by("name").first()
        if team is None:
            raise PermissionDenied(_("Managers only."))
        scope, scope_id, scope_name = "team", team.pk, team.name
    now = timezone.now()
    result = accuracy_measure(lead=lead, now=now, scope=scope, scope_id=scope_id, monthly=monthly)
    bands = calibration(scope=scope, scope_id=scope_id)
    names = method_names()
    briers = {"credit": result.brier_credit, "stage": result.brier_stage, "stage_fitted": result.brier_stage_fitted}
    scores = [(result.scores[m], names[m], briers.get(m)) for m in PAGE_METHODS]
    periods = [row[0] for row in result.scores["credit"].rows]
    forecasts = {m: {row[0]: row[1] for row in result.scores[m].rows} for m in PAGE_METHODS}
    chart = {
        "labels": [p.isoformat() for p in periods],
        "actual": [row[2] for row in result.scores["credit"].rows],
        "methods": {m: [forecasts[m].get(p) for p in periods] for m in PAGE_METHODS},
        "names": {"actual": _("won"), **names,
                  "predicted": _("weight used"), "share": _("share won"), "default": _("default curve")},
        "calibration": {"labels": [b.label for b in bands], "predicted": [b.predicted for b in bands],
                        "share": [b.won_share for b in bands], "default": [b.default for b in bands]},
    }
    rows = [(period, [forecasts[m].get(period) for m in PAGE_METHODS], won)
            for period, (_, _, won) in zip(periods, result.scores["credit"].rows)]
    return render(request, "forecasting/accuracy.html", {
        "filter": board_filter, "form": form, "result": result, "scores": scores, "bands": bands, "chart": chart,
        "lead": lead, "monthly": monthly, "scope_name": scope_name, "rows": rows,
        "method_headers": [names[m] for m in PAGE_METHODS],
        "snapshots": ForecastSnapshot.objects.count(),
    })
