from django.http import HttpResponse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from .keys import verifier_key


@require_GET
@cache_control(public=True, max_age=300)
def audit_key(request):
    """The tenant's checkpoint verifier key, signed-note form, for anyone checking a record."""
    return HttpResponse(f"{verifier_key()}\n", content_type="text/plain; charset=utf-8")
