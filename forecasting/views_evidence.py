"""Evidence review queue, customer confirmation (rep's QR and the customer's page), the
finance page and delivery scheduling. Thin: a form validates, one service works."""
import io

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from followups import selectors as followup_selectors
from followups.models import Opportunity
from salesflow.clientip import client_ip
from salesflow.org.scoping import is_manager, member_for

from . import selectors_evidence as selectors
from .forms_evidence import DeliveryForm, PrepaymentForm, ReviewForm
from .models import CustomerConfirmation, PrepaymentVia
from .services.confirmation import (
    ConfirmationInvalid,
    confirmation_confirm,
    confirmation_lookup,
    confirmation_request,
    confirmation_token,
)
from .services.evidence import evidence_review
from .services.prepayment import delivery_schedule, may_record_prepayment, prepayment_record


def _opportunity_or_404(user, opportunity_id: int):
    opportunity = followup_selectors.opportunity_get_for_user(user=user, opportunity_id=opportunity_id)
    if opportunity is None:
        raise Http404
    return opportunity


def _errors_to_messages(request, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


@login_required
def review_queue(request):
    if member_for(request.user) is None:
        raise Http404
    if not is_manager(request.user):
        raise PermissionDenied(_("Managers only."))
    return render(request, "forecasting/review_queue.html", {
        "items": selectors.review_queue(user=request.user), "form": ReviewForm(),
    })


@login_required
@require_POST
def review(request, evidence_id: int):
    if member_for(request.user) is None:
        raise Http404
    if not is_manager(request.user):
        raise PermissionDenied(_("Managers only."))
    item = selectors.evidence_for_review(user=request.user, evidence_id=evidence_id)
    if item is None:
        raise Http404
    form = ReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Pick downgrade or reject and give a reason."))
    else:
        try:
            evidence_review(actor=request.user, evidence_id=item.pk, action=form.cleaned_data["action"],
                            reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            _errors_to_messages(request, exc)
        else:
            messages.success(request, _("Review saved; the rep has been told."))
    back = request.POST.get("back")
    if back == "opportunity":
        return redirect("followups:opportunity", opportunity_id=item.opportunity_id)
    return redirect("evidence:queue")


@login_required
@require_POST
def confirmation_new(request, opportunity_id: int):
    opportunity = _opportunity_or_404(request.user, opportunity_id)
    confirmation, _token = confirmation_request(actor=request.user, opportunity=opportunity)
    return redirect("evidence:confirmation-show", confirmation_id=confirmation.pk)


def _own_confirmation(user, confirmation_id: int) -> CustomerConfirmation:
    confirmation = CustomerConfirmation.objects.filter(pk=confirmation_id, rep=user).select_related("opportunity").first()
    if confirmation is None:
        raise Http404
    return confirmation


def _confirm_url(request, confirmation) -> str:
    return request.build_absolute_uri(reverse("evidence:confirm", args=[confirmation_token(confirmation)]))


@login_required
def confirmation_show(request, confirmation_id: int):
    """The rep's phone shows this to the customer: a QR code and the same link."""
    confirmation = _own_confirmation(request.user, confirmation_id)
    return render(request, "forecasting/confirmation_show.html", {
        "confirmation": confirmation, "url": _confirm_url(request, confirmation),
    })


@login_required
def confirmation_qr(request, confirmation_id: int):
    confirmation = _own_confirmation(request.user, confirmation_id)
    out = io.BytesIO()
    segno.make(_confirm_url(request, confirmation), error="m").save(out, kind="svg", scale=6, border=2)
    response = HttpResponse(out.getvalue(), content_type="image/svg+xml")
    response["Cache-Control"] = "private, no-store"
    return response


INVALID_STATUS = {"forged": 404, "expired": 410, "used": 409}


def confirm(request, token: str):
    """The customer's page: no login; the signed, single-use link is the only key."""
    try:
        if request.method == "POST":
            confirmation = confirmation_confirm(
                token=token, user_agent=request.META.get("HTTP_USER_AGENT", ""),
                ip=client_ip(request) if request.META.get("REMOTE_ADDR") else None,
            )
            return render(request, "forecasting/confirm_done.html", {"confirmation": confirmation})
        confirmation = confirmation_lookup(token)
    except ConfirmationInvalid as invalid:
        return render(request, "forecasting/confirm_invalid.html",
                      {"reason": invalid.reason, "confirmation": invalid.confirmation},
                      status=INVALID_STATUS[invalid.reason])
    return render(request, "forecasting/confirm.html", {"confirmation": confirmation})


def _finance_only(user):
    if member_for(user) is None:
        raise Http404
    if not may_record_prepayment(user):
        raise PermissionDenied(_("Finance users only."))


@login_required
def finance(request):
    _finance_only(request.user)
    query = request.GET.get("opp", "")[:100]
    form = PrepaymentForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                result = prepayment_record(
                    actor=request.user, opportunity_id=data["opportunity"], amount=data["amount"],
                    currency=data["currency"], received_at=data["received_at"], reference=data["reference"].strip(),
                    via=PrepaymentVia.FINANCE_USER,
                )
            except ValidationError as exc:
                _errors_to_messages(request, exc)
                status = 400
            except Opportunity.DoesNotExist:
                form.add_error(None, _("No open opportunity with this id."))
                status = 400
            else:
                if result.created:
                    messages.success(request, _("Prepayment recorded; credit is now %(credit)s.") % {"credit": result.credit})
                else:
                    messages.info(request, _("This reference was recorded before; nothing changed."))
                return redirect(reverse("evidence:finance") + f"?opp={result.prepayment.opportunity_id}")
        else:
            status = 400
    return render(request, "forecasting/finance.html", {
        "query": query, "opportunities": selectors.finance_opportunities(query=query) if query else [],
        "recent": selectors.recent_prepayments(), "form": form,
    }, status=status)


@login_required
@require_POST
def delivery(request, opportunity_id: int):
    opportunity = _opportunity_or_404(request.user, opportunity_id)
    form = DeliveryForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Pick a planned delivery date."))
    else:
        try:
            delivery_schedule(actor=request.user, opportunity=opportunity, planned_on=form.cleaned_data["planned_on"],
                              note=form.cleaned_data["note"])
        except ValidationError as exc:
            _errors_to_messages(request, exc)
        else:
            messages.success(request, _("Delivery scheduled."))
    return redirect("followups:opportunity", opportunity_id=opportunity.pk)
