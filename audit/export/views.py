from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.contrib.auth.decorators import login_required
from django.urls import reverse
from django.utils.translation import get_language
from django.views.decorators.http import require_GET, require_http_methods

from followups.selectors import account_get_for_user

from .forms import ExportForm
from .models import InteractionExport
from .selectors import account_exportable_by, exports_for_account
from .services import export_downloaded, export_request


def _account_for_export(user, account_id: int):
    account = account_get_for_user(user=user, account_id=account_id)
    if account is None:
        raise Http404
    if not account_exportable_by(user=user, account=account):
        raise PermissionDenied
    return account


def record_panel_context(*, account, form=None) -> dict:
    exports = exports_for_account(account=account)
    return {
        "account": account, "record_form": form or ExportForm(), "exports": exports,
        "exports_pending": any(e.status in (InteractionExport.Status.QUEUED, InteractionExport.Status.RUNNING) for e in exports),
    }


@login_required
@require_http_methods(["GET", "POST"])
def export_panel(request, account_id: int):
    """The account page's record card: GET for its status (htmx polls while one is built), POST to ask for one."""
    account = _account_for_export(request.user, account_id)
    form = None
    if request.method == "POST":
        form = ExportForm(request.POST)
        if form.is_valid():
            export_request(actor=request.user, account=account, since=form.cleaned_data["since"],
                           until=form.cleaned_data["until"], required_touches=form.cleaned_data["required_touches"],
                           language=get_language())
            if not request.htmx:
                return redirect(reverse("followups:account", args=[account.pk]) + "#record")
            form = None
        elif not request.htmx:
            return render(request, "audit/record_page.html", record_panel_context(account=account, form=form), status=400)
    template = "audit/_record_panel.html" if request.htmx else "audit/record_page.html"
    return render(request, template, record_panel_context(account=account, form=form),
                  status=400 if form is not None and form.errors else 200)


@login_required
@require_GET
def export_download(request, account_id: int, export_id: int):
    account = _account_for_export(request.user, account_id)
    export = InteractionExport.objects.filter(pk=export_id, account=account, status=InteractionExport.Status.DONE).first()
    if export is None:
        raise Http404
    export_downloaded(actor=request.user, export=export)
    response = HttpResponse(bytes(export.archive), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{export.filename()}"'
    return response
