from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from salesflow.clientip import client_ip
from salesflow.csp import frame_ancestors_from_tenant
from salesflow.htmx import wants_partial
from salesflow.org.models import Role
from salesflow.org.scoping import is_manager, member_for
from salesflow.org.selectors import tenant_settings_get
from salesflow.ratelimit import rate_limit_hit
from salesflow.redirects import redirect_next

from .filters import LeadFilter, RoutingLogFilter
from .forms import LeadForm, ReassignForm, TouchForm, WebForm
from .models import LeadStatus, LeadTouch
from .selectors import lead_decisions, lead_get_for_user, lead_list, my_leads_by_urgency, pool_list, routing_log, speed_to_lead
from .services import (
    ClaimRefused, LeadStateConflict, lead_accept, lead_claim, lead_intake, lead_reassign, lead_touch_record,
)


def _lead_or_404(request, lead_id):
    lead = lead_get_for_user(user=request.user, lead_id=lead_id)
    if lead is None:
        raise Http404
    return lead


def _member_or_404(request):
    member = member_for(request.user)
    if member is None:
        raise Http404
    return member


def _manager_only(request):
    if not is_manager(request.user):
        raise Http404


@login_required
def lead_index(request):
    """A rep's working list (new first, then by urgency); a manager's filterable list."""
    member = _member_or_404(request)
    if member.role == Role.REP:
        leads = list(my_leads_by_urgency(user=request.user)[:200])
        return render(request, "leads/my_leads.html", {"leads": leads, "touch_kinds": LeadTouch.CONTACT_KINDS,
                                                       "pool_count": pool_list().count()})
    leads_filter = LeadFilter(request.GET, queryset=lead_list(user=request.user), request=request)
    page = Paginator(leads_filter.qs, 50).get_page(request.GET.get("page"))
    template = "leads/_lead_table.html" if wants_partial(request, "lead-table") else "leads/lead_list.html"
    # Managers only reach this list: its rows can always be selected for a bulk reassignment.
    bulk_form = ReassignForm(user=request.user) if template == "leads/lead_list.html" else None
    response = render(request, template, {"filter": leads_filter, "page": page, "bulk_form": bulk_form, "selectable": True})
    response["Vary"] = "HX-Request"
    return response


@login_required
def lead_detail(request, lead_id: int):
    lead = _lead_or_404(request, lead_id)
    context = {
        "lead": lead,
        "decisions": lead_decisions(lead),
        "touches": lead.touches.select_related("actor", "actor__member").order_by("-at")[:50],
        "is_owner": lead.owner_id == request.user.pk,
        "touch_kinds": LeadTouch.CONTACT_KINDS,
        "reassign_form": ReassignForm(user=request.user) if is_manager(request.user) and lead.status != LeadStatus.MERGED else None,
    }
    return render(request, "leads/lead_detail.html", context)


@login_required
@require_POST
def lead_accept_view(request, lead_id: int):
    lead = _lead_or_404(request, lead_id)
    try:
        lead_accept(actor=request.user, lead=lead)
        messages.success(request, _("Accepted. Now make the first contact."))
    except LeadStateConflict as exc:
        messages.error(request, str(exc))
    return _back(request, lead_id)


@login_required
@require_POST
def lead_touch_view(request, lead_id: int):
    lead = _lead_or_404(request, lead_id)
    form = TouchForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose how you contacted the customer."))
    else:
        try:
            lead_touch_record(actor=request.user, lead=lead, kind=form.cleaned_data["kind"], note=form.cleaned_data["note"])
            messages.success(request, _("Contact recorded."))
        except LeadStateConflict as exc:
            messages.error(request, str(exc))
    return _back(request, lead_id)


def _back(request, lead_id):
    return redirect_next(request, "leads:detail", lead_id)


@login_required
@require_POST
def lead_reassign_view(request, lead_id: int):
    _manager_only(request)
    lead = _lead_or_404(request, lead_id)
    form = ReassignForm(request.POST, user=request.user)
    if not form.is_valid():
        messages.error(request, _("Choose a rep and give a reason."))
        return redirect("leads:detail", lead_id)
    try:
        lead_reassign(actor=request.user, lead=lead, new_owner=form.cleaned_data["new_owner"], reason=form.cleaned_data["reason"])
        messages.success(request, _("Lead reassigned."))
    except (LeadStateConflict, ValidationError, PermissionDenied) as exc:
        messages.error(request, "; ".join(getattr(exc, "messages", [str(exc)])))
    return redirect("leads:detail", lead_id)


@login_required
def pool(request):
    _member_or_404(request)
    page = Paginator(pool_list(), 50).get_page(request.GET.get("page"))
    return render(request, "leads/pool.html", {"page": page, "can_claim": member_for(request.user).role == Role.REP})


@login_required
@require_POST
def lead_claim_view(request, lead_id: int):
    lead = lead_get_for_user(user=request.user, lead_id=lead_id)
    if lead is None:
        # Claimed by someone else since the pool page was drawn (or never there): same answer.
        messages.error(request, _("This lead is no longer in the pool: someone else claimed it first."))
        return redirect("leads:pool")
    try:
        lead_claim(actor=request.user, lead=lead)
    except ClaimRefused as exc:
        messages.error(request, str(exc))
        return redirect("leads:pool")
    messages.success(request, _("The lead is yours. Make the first contact."))
    return redirect("leads:detail", lead_id)


@login_required
def lead_create(request):
    _member_or_404(request)
    form = LeadForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = lead_intake(clean=form.payload, actor=request.user, via="manual")
        if result.created:
            messages.success(request, _("Lead saved and routed: %(reason)s") % {"reason": result.lead.routing_reason_text})
        else:
            messages.warning(request, _("This customer is already a lead; your entry was attached to it."))
        return redirect("leads:detail", result.lead.pk) if lead_get_for_user(user=request.user, lead_id=result.lead.pk) else redirect("leads:index")
    return render(request, "leads/lead_form.html", {"form": form}, status=400 if request.method == "POST" else 200)


@login_required
def routing_log_view(request):
    _manager_only(request)
    log_filter = RoutingLogFilter(request.GET, queryset=routing_log(user=request.user), request=request)
    page = Paginator(log_filter.qs, 50).get_page(request.GET.get("page"))
    return render(request, "leads/routing_log.html", {"filter": log_filter, "page": page})


@login_required
def speed_view(request):
    _manager_only(request)
    return render(request, "leads/speed.html", {"speed": speed_to_lead(user=request.user)})


def _web_form_wait(request) -> int | None:
    """One visitor's burst waits alone; the tenant's ceiling is counted only for posts that pass their own."""
    wait = rate_limit_hit(bucket=f"web-form:address:{client_ip(request)}", limit=settings.WEB_FORM_POSTS_PER_ADDRESS)
    if wait is None:
        wait = rate_limit_hit(bucket="web-form", limit=tenant_settings_get().intake_rate_limit)
    return wait


@frame_ancestors_from_tenant
def web_form(request):
    """Public and embeddable: a honeypot and the intake rate limit keep robots out."""
    form = WebForm(request.POST or None)
    if request.method == "POST":
        retry_after = _web_form_wait(request)
        if retry_after is not None:
            response = render(request, "leads/web_form.html", {"form": form, "limited": True}, status=429)
            response["Retry-After"] = str(retry_after)
            return response
        if form.data.get("website"):
            return redirect("leads:web-form-thanks")  # a robot filled the hidden field: say thanks, store nothing
        if form.is_valid():
            lead_intake(clean=form.payload, actor="web form", via="web_form")
            return redirect("leads:web-form-thanks")
        return render(request, "leads/web_form.html", {"form": form}, status=400)
    return render(request, "leads/web_form.html", {"form": form})


@frame_ancestors_from_tenant
def web_form_thanks(request):
    return render(request, "leads/web_form_thanks.html")
