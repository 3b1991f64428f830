import zoneinfo

from django.conf import settings
from django.db import connection
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers
from django_tenants.utils import get_public_schema_name

from salesflow.org.scoping import member_for
from salesflow.org.selectors import tenant_settings_get


class TenantContextMiddleware:
    """Activates the tenant's time zone and language for the request.

    Language: the user's own choice (the language cookie set by the switcher) wins, else
    the tenant's default (MemberLanguageMiddleware then applies a signed-in person's saved
    choice when this browser has none). Times are always shown in the tenant's zone.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.tenant_settings = None
        if connection.schema_name != get_public_schema_name():
            request.tenant_settings = tenant_settings_get()
        default_language = request.tenant_settings.default_language if request.tenant_settings else settings.LANGUAGE_CODE
        zone = request.tenant_settings.time_zone if request.tenant_settings else settings.TIME_ZONE
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        translation.activate(chosen if chosen in dict(settings.LANGUAGES) else default_language)
        request.LANGUAGE_CODE = translation.get_language()
        timezone.activate(zoneinfo.ZoneInfo(zone))
        try:
            response = self.get_response(request)
        finally:
            timezone.deactivate()
        patch_vary_headers(response, ("Cookie",))
        response.headers.setdefault("Content-Language", request.LANGUAGE_CODE)
        return response


class MemberLanguageMiddleware:
    """A signed-in person's saved language applies on a browser that has not chosen one (after auth)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.tenant_settings is not None and settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
            member = member_for(getattr(request, "user", None))
            if member is not None and member.language:
                translation.activate(member.language)
                request.LANGUAGE_CODE = member.language
        response = self.get_response(request)
        response.headers["Content-Language"] = request.LANGUAGE_CODE
        return response
