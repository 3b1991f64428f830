"""Targets per level with their roll-up and attainment, editing one node, and the deviation heatmap."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from salesflow.org.scoping import member_for

from .forms_targets import PeriodForm, TargetForm
from .models_targets import HeatmapReport, PeriodKind, TargetLevel
from .selectors.targets import product_lines_targeted, target_board, targets_for
from .services.heatmap import heatmap_for_user, report_grids
from .services.periods import Period
from .services.targets import NodeNotFound, node_for_edit, target_clear, target_set


def _member_or_404(user):
    if member_for(user) is None:
        raise Http404


def _period_query(period: Period, line: str = "") -> str:
    query = f"kind={period.kind}&start={period.start.isoformat()}"
    return query + (f"&line={line}" if line else "")


@login_required
def targets(request):
    _member_or_404(request.user)
    today = timezone.localdate()
    form = PeriodForm(request.GET or None)
    period = form.period(today=today)
    line = form.product_line()
    if not form.is_bound:
        form = PeriodForm(initial={"kind": period.kind, "start": period.start})
    board = target_board(user=request.user, period=period, product_line=line, today=today)
    return render(request, "forecasting/targets.html", {
        "form": form, "board": board, "period": period, "line": line, "query": _period_query(period, line),
        "previous_query": _period_query(period.previous(), line), "next_query": _period_query(period.next(), line),
        "lines": product_lines_targeted(period),
    })


def _node_or_404(request, level: str, key: int):
    try:
        return node_for_edit(user=request.user, level=level, key=key or None)
    except NodeNotFound:
        raise Http404 from None
    except PermissionDenied:
        raise PermissionDenied(_("Only the managers above this level and admins set its target.")) from None


@login_required
def target_edit(request, level: str, key: int):
    """GET: the form for one node's target; POST: save it (or clear it), back to the targets page."""
    _member_or_404(request.user)
    period_form = PeriodForm(request.GET or None)
    period = period_form.period(today=timezone.localdate())
    line = period_form.product_line()
    node = _node_or_404(request, level, key)
    existing = targets_for(period).get((node.level, node.key, line))
    back = reverse("targets:index") + "?" + _period_query(period, line)
    if request.method == "POST" and request.POST.get("clear"):
        target_clear(actor=request.user, level=node.level, key=node.key, period=period, product_line=line,
                     reason=request.POST.get("reason", "")[:200])
        messages.success(request, _("Target cleared."))
        return redirect(back)
    initial = {"deadline": period.last_day, "owner": _default_owner(node)}
    if existing is not None:
        initial = {"amount": f"{existing.amount:,.2f}".rstrip("0").rstrip("."), "owner": existing.owner_id,
                   "deadline": existing.deadline}
    form = TargetForm(request.POST if request.method == "POST" else None, initial=initial, user=request.user,
                      period=period)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        target_set(actor=request.user, level=node.level, key=node.key, period=period, product_line=line,
                   amount=data["amount"], owner=data["owner"], deadline=data["deadline"], reason=data["reason"])
        messages.success(request, _("Target saved."))
        return redirect(back)
    status = 400 if request.method == "POST" else 200
    return render(request, "forecasting/target_edit.html", {
        "form": form, "node": node, "period": period, "line": line, "existing": existing, "back": back,
        "query": _period_query(period, line),
    }, status=status)


def _default_owner(node) -> int | None:
    from salesflow.org.models import Region, Team

    if node.level == TargetLevel.REP:
        return node.key
    if node.level == TargetLevel.TEAM:
        return Team.objects.filter(pk=node.key).values_list("manager_id", flat=True).first()
    if node.level == TargetLevel.REGION:
        return Region.objects.filter(pk=node.key).values_list("director_id", flat=True).first()
    return None


@login_required
def heatmap(request):
    """The live heatmap of the reader's scope, or one report sent to them (?report=id)."""
    _member_or_404(request.user)
    today = timezone.localdate()
    sent = HeatmapReport.objects.filter(recipient=request.user).order_by("-sent_at")
    report = None
    if request.GET.get("report"):
        report = sent.filter(pk=request.GET["report"]).first() if request.GET["report"].isdigit() else None
        if report is None:
            raise Http404
        grids = report_grids(report)
    else:
        form = PeriodForm({"kind": request.GET.get("kind", PeriodKind.MONTH), "start": request.GET.get("start", "")})
        grids = [heatmap_for_user(user=request.user, period=form.period(today=today), today=today)]
    grid = grids[0]
    return render(request, "forecasting/heatmap.html", {
        "grid": grid, "grids": grids, "report": report, "sent": sent[:12], "period": grid.period,
        "previous_query": _period_query(grid.period.previous()), "next_query": _period_query(grid.period.next()),
    })
