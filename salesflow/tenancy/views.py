from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from .forms import ProvisionForm
from .selectors import tenant_list
from .services import tenant_provision


@staff_member_required(login_url="login")
def operator_home(request):
    return render(request, "tenancy/home.html", {"tenants": tenant_list(), "form": ProvisionForm()})


@staff_member_required(login_url="login")
def tenant_new(request):
    form = ProvisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            result = tenant_provision(**form.cleaned_data, operator=request.user.get_username())
        except ValidationError as exc:
            for field, problems in exc.message_dict.items():
                for problem in problems:
                    form.add_error(field if field in form.fields else None, problem)
        else:
            context = {"result": result, "announcements": announcements_labelled(result.announcements),
                       "tenant_url": tenant_home_url(request, result.tenant)}
            return render(request, "tenancy/provisioned.html", context, status=201)
    status = 400 if request.method == "POST" else 200
    return render(request, "tenancy/home.html", {"tenants": tenant_list(), "form": form}, status=status)


ANNOUNCEMENT_LABELS = {
    "intake key": _("Intake API key"),
    "finance secret": _("Finance webhook secret"),
    "pipeline": _("Pipeline stages"),
    "action templates": _("Action templates"),
}


def announcements_labelled(announcements: dict[str, str]) -> list[tuple[str, str]]:
    return [(str(ANNOUNCEMENT_LABELS.get(name, name)), value) for name, value in announcements.items()]


def tenant_home_url(request, tenant) -> str:
    """The new tenant's sign-in page on its primary host, on the port the operator is using."""
    domain = tenant.get_primary_domain()
    port = request.get_port()
    scheme = "https" if request.is_secure() else "http"
    default_port = "443" if request.is_secure() else "80"
    host = domain.domain if port == default_port else f"{domain.domain}:{port}"
    return f"{scheme}://{host}/accounts/login/"
