"""Rep and manager screens. Thin: a form or filter validates, one selector/service works."""
import time

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from audit.export.selectors import account_exportable_by
from audit.export.views import record_panel_context
from salesflow.clientip import client_ip
from salesflow.htmx import wants_partial
from salesflow.org.scoping import is_manager, member_for
from salesflow.redirects import redirect_next

from . import selectors
from .filters import BoardFilter
from .forms import AccountReassignForm, ConvertForm, FollowUpForm, LocationForm, ReassignForm, StageForm, VisitForm
from .models import ActionTemplate
from .services import (
    followup_from_template,
    lead_convert,
    followup_log,
    opportunity_stage_change,
    task_complete,
    visit_log,
)
from .services.records import Location

BOARD_PAGE_SIZE = 50


def _link_prefixes() -> dict[str, str]:
    """URL prefixes for row links: one reverse() per page instead of two per row."""
    return {
        "opportunity": reverse("followups:opportunity", args=[0]).removesuffix("0/"),
        "account": reverse("followups:account", args=[0]).removesuffix("0/"),
    }


def _member_or_404(user):
    if member_for(user) is None:
        raise Http404
    return member_for(user)


def _manager_only(user):
    _member_or_404(user)
    if not is_manager(user):
        raise PermissionDenied(_("Managers only."))


def _opportunity_or_404(user, opportunity_id: int):
    opportunity = selectors.opportunity_get_for_user(user=user, opportunity_id=opportunity_id)
    if opportunity is None:
        raise Http404
    return opportunity


def _location(form: LocationForm) -> Location:
    data = form.cleaned_data
    return Location(
        status=data.get("location_status") or "", latitude=data.get("latitude"), longitude=data.get("longitude"),
        accuracy_m=data.get("accuracy"),
    )


def _client_ip(request) -> str | None:
    return client_ip(request) if request.META.get("REMOTE_ADDR") else None


def _via(request) -> str:
    agent = request.META.get("HTTP_USER_AGENT", "")
    return "mobile" if "Mobile" in agent else "web"


@login_required
def today(request):
    _member_or_404(request.user)
    items = selectors.rep_today(user=request.user)
    team = selectors.team_attention(user=request.user) if is_manager(request.user) else None
    return render(request, "followups/today.html", {"items": items, "team": team, "links": _link_prefixes()})


@login_required
def opportunity_detail(request, opportunity_id: int):
    opportunity = _opportunity_or_404(request.user, opportunity_id)
    context = selectors.opportunity_detail(opportunity=opportunity)
    context["followup_form"] = FollowUpForm(account=opportunity.account)
    context["stage_form"] = StageForm(initial={"stage": opportunity.stage_id})
    context["can_log"] = opportunity.owner_id == request.user.pk
    context["can_edit"] = context["can_log"] or is_manager(request.user)
    context["reassign_form"] = ReassignForm(user=request.user) if is_manager(request.user) else None
    return render(request, "followups/opportunity.html", context)


def _owner_only(request, opportunity):
    # Managers read their team's records but do not log touches in a rep's name.
    if opportunity.owner_id != request.user.pk:
        raise PermissionDenied(_("Only the owner logs follow-ups on this opportunity."))


@login_required
@require_POST
def visit(request, opportunity_id: int):
    started = time.monotonic()
    opportunity = _opportunity_or_404(request.user, opportunity_id)
    _owner_only(request, opportunity)
    form = VisitForm(request.POST)
    outcome = None
    if form.is_valid():
        outcome = ActionTemplate.objects.filter(code=form.cleaned_data["outcome"], is_visit_outcome=True, active=True).first()
    if outcome is None:
        return HttpResponse(_("Pick one of the outcomes."), status=400)
    followup = visit_log(actor=request.user, opportunity=opportunity, outcome=outcome, location=_location(form))
    if request.htmx:
        response = render(request, "followups/_visit_saved.html", {"followup": followup, "opportunity": opportunity})
        response["X-Followup-Id"] = str(followup.pk)
        response["Server-Timing"] = f"app;dur={(time.monotonic() - started) * 1000:.1f}"
        return response
    messages.success(request, _("Visit logged."))
    return redirect("followups:opportunity", opportunity_id=opportunity.pk)


@login_required
@require_POST
def template_log(request, opportunity_id: int, code: str):
    opportunity = _opportunity_or_404(request.user, opportunity_id)
    _owner_only(request, opportunity)
    template = ActionTemplate.objects.filter(code=code, active=True).first()
    if template is None:
        raise Http404
    form = LocationForm(request.POST)
    location = _location(form) if form.is_valid() else Location()
    followup_from_template(actor=request.user, opportunity=opportunity, template=template, location=location)
    messages.success(request, _("Logged: %(title)s") % {"title": template.title})
    return redirect("followups:opportunity", opportunity_id=opportunity.pk)


@login_required
@require_POST
def followup_create(request, opportunity_id: int):
    opportunity = _opportunity_or_404(request.user, opportunity_id)
    _owner_only(request, opportunity)
    form = FollowUpForm(request.POST, request.FILES, account=opportunity.account)
    if form.is_valid():
        data = form.cleaned_data
        try:
            followup_log(
                actor=request.user, opportunity=opportunity, kind=data["kind"], summary=data["summary"],
                contacts=data["contacts"], next_step=data["next_step"], next_step_due_at=data["next_step_due_at"],
                location=_location(form), files=data["files"],
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("Follow-up logged."))
            return redirect("followups:opportunity", opportunity_id=opportunity.pk)
    context = selectors.opportunity_detail(opportunity=opportunity)
    context |= {"followup_form": form, "stage_form": StageForm(initial={"stage": opportunity.stage_id}), "can_log": True}
    return render(request, "followups/opportunity.html", context, status=400)


@login_required
@require_POST
def stage_change(request, opportunity_id: int):
    opportunity = _opportunity_or_404(request.user, opportunity_id)
    if opportunity.owner_id != request.user.pk and not is_manager(request.user):
        raise PermissionDenied
    form = StageForm(request.POST)
    if form.is_valid():
        try:
            opportunity_stage_change(
                actor=request.user, opportunity=opportunity, to_stage=form.cleaned_data["stage"], via=_via(request),
                ip=_client_ip(request), lost_reason=form.cleaned_data["lost_reason"],
            )
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("Stage changed."))
    else:
        messages.error(request, _("Pick a stage."))
    return redirect("followups:opportunity", opportunity_id=opportunity.pk)


@login_required
@require_POST
def task_done(request, task_id: int):
    task = selectors.task_get_for_user(user=request.user, task_id=task_id)
    if task is None:
        raise Http404
    task_complete(actor=request.user, task=task)
    return redirect_next(request, "followups:today")


@login_required
def attachment_download(request, attachment_id: int):
    """Evidence is served only here, after the same scoping as its opportunity."""
    attachment = selectors.attachment_get_for_user(user=request.user, attachment_id=attachment_id)
    if attachment is None:
        raise Http404
    response = FileResponse(
        attachment.file.open("rb"), as_attachment=True, filename=attachment.original_name,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@vary_on_headers("HX-Request")
def board(request):
    """Red/yellow/green board; htmx asks for the rows partial only."""
    _manager_only(request.user)
    base = selectors.opportunity_list(user=request.user).filter(is_open=True)
    board_filter = BoardFilter(request.GET or None, queryset=base, user=request.user)
    rows_qs = board_filter.qs if board_filter.is_bound and board_filter.is_valid() else base
    counts = selectors.board_counts(rows_qs)
    total = counts["green"] + counts["yellow"] + counts["red"]
    # Counts come from the aggregate above: the paginator must not run COUNT(*) again.
    paginator = Paginator(rows_qs.order_by("-light", "next_due_at", "id"), BOARD_PAGE_SIZE)
    paginator.count = total
    page = paginator.get_page(request.GET.get("page"))
    context = {"filter": board_filter, "page": page, "counts": counts, "total": total, "links": _link_prefixes()}
    # The filters live in the query string (htmx pushes it), so a reload or a bookmark
    # draws the same rows; only an htmx swap of the rows region gets the partial.
    if wants_partial(request, "board-rows"):
        return render(request, "followups/_board_rows.html", context)
    return render(request, "followups/board.html", context)


@login_required
def account_detail(request, account_id: int):
    account = selectors.account_get_for_user(user=request.user, account_id=account_id)
    if account is None:
        raise Http404
    context = selectors.account_drilldown(account=account, user=request.user)
    context["can_edit"] = account.owner_id == request.user.pk or is_manager(request.user)
    if not request.htmx and is_manager(request.user):
        context["reassign_form"] = AccountReassignForm(user=request.user)
    if not request.htmx and account_exportable_by(user=request.user, account=account):
        context["record_panel"] = record_panel_context(account=account)
    template = "followups/_account_recent.html" if request.htmx else "followups/account.html"
    return render(request, template, context)


@login_required
@vary_on_headers("HX-Request")
def stagnant(request):
    _manager_only(request.user)
    context = {"opportunities": selectors.stagnant_list(user=request.user)}
    template = "followups/_stagnant_rows.html" if request.htmx else "followups/stagnant.html"
    return render(request, template, context)


@login_required
@vary_on_headers("HX-Request")
def compliance(request):
    _manager_only(request.user)
    context = {"rows": selectors.rep_compliance(user=request.user)}
    template = "followups/_compliance_rows.html" if request.htmx else "followups/compliance.html"
    return render(request, template, context)


@login_required
def lead_convert_view(request, lead_id: int):
    """Turn a lead the user may see into account + contact + opportunity in one step (GET: the form)."""
    from leads.selectors import lead_get_for_user
    from leads.services import LeadStateConflict

    lead = lead_get_for_user(user=request.user, lead_id=lead_id)
    if lead is None or lead.owner_id is None:
        raise Http404
    if lead.owner_id != request.user.pk and not is_manager(request.user):
        raise PermissionDenied
    if request.method != "POST":
        form = ConvertForm(initial={"opportunity_name": f"{lead.company or lead.contact_name} · {lead.product_line or lead.industry}"})
        return render(request, "followups/convert.html", {"lead": lead, "form": form})
    form = ConvertForm(request.POST)
    if not form.is_valid():
        return render(request, "followups/convert.html", {"lead": lead, "form": form}, status=400)
    try:
        opportunity = lead_convert(actor=request.user, lead=lead, **form.cleaned_data)
    except LeadStateConflict as exc:
        return HttpResponse(str(exc), status=409, content_type="text/plain; charset=utf-8")
    except ValidationError as exc:  # the first stage's gate, when the tenant set one
        form.add_error(None, exc.messages)
        return render(request, "followups/convert.html", {"lead": lead, "form": form}, status=400)
    messages.success(request, _("Converted: the opportunity is open."))
    return redirect("followups:opportunity", opportunity_id=opportunity.pk)
