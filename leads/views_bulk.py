"""Bulk actions on leads: managers reassign selected rows, reps claim selected pool leads.
Each lead goes through the single-lead service; the page reports each one's outcome."""
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from salesflow.org.models import Role
from salesflow.org.scoping import is_manager, member_for

from .forms import ReassignForm
from .models import Lead
from .selectors import lead_list
from .services import BULK_LIMIT, leads_bulk_claim, leads_bulk_reassign


class _Ids(forms.Form):
    ids = forms.TypedMultipleChoiceField(coerce=int, choices=[], error_messages={
        "required": gettext_lazy("Select at least one row.")})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ids"].valid_value = lambda value: str(value).isdigit() and len(str(value)) < 19

    def clean_ids(self):
        ids = list(dict.fromkeys(self.cleaned_data["ids"]))
        if len(ids) > BULK_LIMIT:
            raise forms.ValidationError(_("At most %(n)d rows at a time.") % {"n": BULK_LIMIT})
        return ids


class BulkLeadReassignForm(_Ids, ReassignForm):
    pass


def _report_errors(request, form) -> None:
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)


def _resolve(ids: list[int], queryset) -> tuple[list[Lead], list[int]]:
    found = {lead.pk: lead for lead in queryset.filter(pk__in=ids)}
    return [found[i] for i in ids if i in found], [i for i in ids if i not in found]


@login_required
@require_POST
def lead_bulk_reassign(request):
    if member_for(request.user) is None or not is_manager(request.user):
        raise Http404
    form = BulkLeadReassignForm(request.POST, user=request.user)
    if not form.is_valid():
        _report_errors(request, form)
        return redirect("leads:index")
    leads, missing = _resolve(form.cleaned_data["ids"], lead_list(user=request.user))
    outcomes = leads_bulk_reassign(actor=request.user, leads=leads, new_owner=form.cleaned_data["new_owner"],
                                   reason=form.cleaned_data["reason"])
    return render(request, "followups/bulk_result.html", {
        "outcomes": outcomes, "missing": missing, "back": reverse("leads:index"), "title": _("Reassign leads"),
        "item_url": "/leads/",
    })


@login_required
@require_POST
def lead_bulk_claim(request):
    member = member_for(request.user)
    if member is None:
        raise Http404
    if member.role != Role.REP:
        raise PermissionDenied(_("Only reps claim leads from the pool."))
    form = _Ids(request.POST)
    if not form.is_valid():
        _report_errors(request, form)
        return redirect("leads:pool")
    # Only the pool and the rep's own leads resolve: another's lead is reported as gone, never named.
    leads, missing = _resolve(form.cleaned_data["ids"], lead_list(user=request.user))
    outcomes = leads_bulk_claim(actor=request.user, leads=leads)
    return render(request, "followups/bulk_result.html", {
        "outcomes": outcomes, "missing": missing, "back": reverse("leads:pool"), "title": _("Claim leads"),
        "item_url": "/leads/",
    })
