"""Going back where a form came from, never to another site."""
from django.http import HttpResponseRedirect
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme


def redirect_next(request, fallback, *args, **kwargs):
    """Redirect to the request's `next` when it stays on this host (`//evil.example` does not), else to `fallback`."""
    target = str(request.POST.get("next") or request.GET.get("next") or "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        # Not redirect(target): it would take "0" or "home" for a view name and fail to reverse it.
        return HttpResponseRedirect(target)
    return redirect(fallback, *args, **kwargs)
