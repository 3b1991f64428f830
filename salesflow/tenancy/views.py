from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import ValidationError
from django.shortcuts import render

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
            return render(request, "tenancy/provisioned.html", {"result": result}, status=201)
    status = 400 if request.method == "POST" else 200
    return render(request, "tenancy/home.html", {"tenants": tenant_list(), "form": form}, status=status)
