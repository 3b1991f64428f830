"""Accounts, contacts and opportunities kept in the app: create, edit, reassign (desktop and phone)."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from salesflow.org.scoping import is_manager
from salesflow.search import custom_plans, normalise_query, search_filter

from . import selectors
from .forms import (
    AccountForm,
    AccountReassignForm,
    ContactForm,
    OpportunityEditForm,
    OpportunityNewForm,
    ReassignForm,
)
from .services import (
    account_create,
    account_reassign,
    account_update,
    contact_create,
    contact_update,
    opportunity_open,
    opportunity_reassign,
    opportunity_update,
)
from salesflow.clientip import client_ip

from .views import _member_or_404, _opportunity_or_404, _via

ACCOUNTS_PAGE_SIZE = 50


def _account_or_404(user, account_id: int):
    account = selectors.account_get_for_user(user=user, account_id=account_id)
    if account is None:
        raise Http404
    return account


def _int_or_none(value) -> int | None:
    value = str(value or "").strip()
    return int(value) if value.isdigit() and len(value) < 19 else None


def _may_edit(user, owner_id: int) -> bool:
    """The owner edits; so does any manager who sees the record (scoping already checked)."""
    return owner_id == user.pk or is_manager(user)


def _errors_into(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _form_page(request, form, *, save, saved: str, title: str, **context):
    """GET draws the form; a valid POST calls `save(data)`, which returns where to go next.
    Errors, the form's or the service's, come back on the form with status 400."""
    if request.method == "POST" and form.is_valid():
        try:
            target = save(form.cleaned_data)
        except ValidationError as exc:
            _errors_into(form, exc)
        else:
            messages.success(request, saved)
            return redirect(target)
    status = 400 if request.method == "POST" else 200
    return render(request, "followups/record_form.html", {"form": form, "title": title, **context}, status=status)


@login_required
@vary_on_headers("HX-Request")
def account_index(request):
    """The customers the user may see, newest first; `q` narrows by name."""
    _member_or_404(request.user)
    accounts = selectors.account_list(user=request.user).order_by("-created_at", "-id")
    query = normalise_query(request.GET.get("q", ""))
    if not query:
        page = Paginator(accounts, ACCOUNTS_PAGE_SIZE).get_page(request.GET.get("page"))
        return render(request, "followups/accounts.html", {"page": page, "q": query})
    with custom_plans():
        page = Paginator(search_filter(accounts, query), ACCOUNTS_PAGE_SIZE).get_page(request.GET.get("page"))
        page.object_list = list(page.object_list)
    return render(request, "followups/accounts.html", {"page": page, "q": query})


@login_required
def account_new(request):
    _member_or_404(request.user)

    def save(data):
        account = account_create(actor=request.user, owner=request.user, via=_via(request), **data)
        return reverse("followups:account", args=[account.pk])

    return _form_page(request, AccountForm(request.POST or None), save=save, saved=_("Customer saved."),
                      title=_("New customer"))


@login_required
def account_edit(request, account_id: int):
    account = _account_or_404(request.user, account_id)
    if not _may_edit(request.user, account.owner_id):
        raise PermissionDenied(_("Only the owner or a manager edits this customer."))
    form = AccountForm(request.POST or None, initial={f: getattr(account, f) for f in AccountForm.base_fields})

    def save(data):
        account_update(actor=request.user, account=account, via=_via(request), **data)
        return reverse("followups:account", args=[account.pk])

    return _form_page(request, form, save=save, saved=_("Customer saved."),
                      title=_("Edit %(name)s") % {"name": account.name}, back=account)


def _reassign(request, form, action, back):
    if not form.is_valid():
        messages.error(request, _("Choose someone in your team."))
        return redirect(back)
    try:
        action(form.cleaned_data)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, "; ".join(getattr(exc, "messages", None) or [str(exc)]))
    else:
        messages.success(request, _("Reassigned."))
    return redirect(back)


@login_required
@require_POST
def account_reassign_view(request, account_id: int):
    account = _account_or_404(request.user, account_id)
    if not is_manager(request.user):
        raise PermissionDenied(_("Only managers reassign."))
    form = AccountReassignForm(request.POST, user=request.user)
    return _reassign(request, form, lambda data: account_reassign(
        actor=request.user, account=account, new_owner=data["new_owner"],
        with_open_opportunities=data["with_open_opportunities"], via=_via(request),
    ), reverse("followups:account", args=[account.pk]))


def _chain_context(request, account, opportunity, form=None):
    return {"account": account, "contacts": list(account.contacts.all()), "opportunity": opportunity,
            "contact_form": form, "can_add_contact": True}


@login_required
def contact_new(request, account_id: int):
    """A short form for a visit: htmx swaps the decision-chain card in place, else a full page."""
    account = _account_or_404(request.user, account_id)
    opportunity = None
    opportunity_id = _int_or_none(request.POST.get("opportunity") or request.GET.get("opportunity"))
    if opportunity_id is not None:
        opportunity = _opportunity_or_404(request.user, opportunity_id)
    form = ContactForm(request.POST or None)
    saved = False
    if request.method == "POST" and form.is_valid():
        try:
            contact_create(actor=request.user, account=account, via=_via(request), **form.cleaned_data)
        except ValidationError as exc:
            _errors_into(form, exc)
        else:
            saved = True
    if request.htmx:
        context = _chain_context(request, account, opportunity, None if saved else form)
        context["saved"] = saved
        return render(request, "followups/_chain_card.html", context)
    if saved:
        messages.success(request, _("Contact added."))
        target = ("followups:opportunity", opportunity.pk) if opportunity else ("followups:account", account.pk)
        return redirect(*target)
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "title": _("New contact at %(name)s") % {"name": account.name}, "back": account,
               "opportunity": opportunity}
    return render(request, "followups/record_form.html", context, status=status)


@login_required
def contact_edit(request, contact_id: int):
    contact = selectors.contact_get_for_user(user=request.user, contact_id=contact_id)
    if contact is None:
        raise Http404
    form = ContactForm(request.POST or None, initial={f: getattr(contact, f) for f in ContactForm.base_fields})

    def save(data):
        contact_update(actor=request.user, contact=contact, via=_via(request), **data)
        return reverse("followups:account", args=[contact.account_id])

    return _form_page(request, form, save=save, saved=_("Contact saved."),
                      title=_("Edit %(name)s") % {"name": contact.name}, back=contact.account)


@login_required
def opportunity_new(request):
    _member_or_404(request.user)
    accounts = selectors.account_list(user=request.user).select_related(None).order_by("name")
    initial = {}
    account_id = _int_or_none(request.GET.get("account"))
    if account_id is not None:
        initial["account"] = _account_or_404(request.user, account_id)
    form = OpportunityNewForm(request.POST or None, initial=initial, user=request.user, accounts=accounts,
                              can_assign=is_manager(request.user))

    def save(data):
        opportunity = opportunity_open(
            actor=request.user, owner=data.get("owner") or request.user, name=data["name"],
            account=data["account"], account_values={"name": data["new_account_name"]}, amount=data["amount"],
            expected_close=data["expected_close"], product_line=data["product_line"], via=_via(request),
            stage=data.get("stage"), ip=client_ip(request),
        )
        return reverse("followups:opportunity", args=[opportunity.pk])

    return _form_page(request, form, save=save, saved=_("Opportunity opened."), title=_("New opportunity"))


@login_required
def opportunity_edit(request, opportunity_id: int):
    opportunity = _opportunity_or_404(request.user, opportunity_id)
    if not _may_edit(request.user, opportunity.owner_id):
        raise PermissionDenied(_("Only the owner or a manager edits this opportunity."))
    form = OpportunityEditForm(request.POST or None,
                               initial={f: getattr(opportunity, f) for f in OpportunityEditForm.base_fields})

    def save(data):
        opportunity_update(actor=request.user, opportunity=opportunity, via=_via(request), **data)
        return reverse("followups:opportunity", args=[opportunity.pk])

    return _form_page(request, form, save=save, saved=_("Opportunity saved."),
                      title=_("Edit %(name)s") % {"name": opportunity.name}, back_opportunity=opportunity)


@login_required
@require_POST
def opportunity_reassign_view(request, opportunity_id: int):
    opportunity = _opportunity_or_404(request.user, opportunity_id)
    if not is_manager(request.user):
        raise PermissionDenied(_("Only managers reassign."))
    form = ReassignForm(request.POST, user=request.user)
    return _reassign(request, form, lambda data: opportunity_reassign(
        actor=request.user, opportunity=opportunity, new_owner=data["new_owner"], via=_via(request),
    ), reverse("followups:opportunity", args=[opportunity.pk]))
