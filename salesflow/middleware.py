import zoneinfo

from django.conf import settings
from django.db import connection
from django.urls import Resolver404, resolve
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers
from django.utils.translation.trans_real import parse_accept_lang_header
from django_tenants.utils import get_public_schema_name

from salesflow.org.scoping import member_for
from salesflow.org.selectors import tenant_settings_get


class TenantContextMiddleware:
    """Activates the tenant's time zone and language for the request.

    Language, first found: the language cookie set by the switcher on this browser; the
    signed-in person's saved choice (MemberLanguageMiddleware, after authentication); a
    language the browser asks for (Accept-Language) that we have; the tenant's default.
    Times are always shown in the tenant's zone.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.tenant_settings = None
        if connection.schema_name != get_public_schema_name():
            request.tenant_settings = tenant_settings_get()
        default_language = request.tenant_settings.default_language if request.tenant_settings else settings.LANGUAGE_CODE
        zone = request.tenant_settings.time_zone if request.tenant_settings else settings.TIME_ZONE
        previous_language = translation.get_language()
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if chosen not in dict(settings.LANGUAGES):
            chosen = _browser_language(request) or default_language
        translation.activate(chosen)
        request.LANGUAGE_CODE = translation.get_language()
        timezone.activate(zoneinfo.ZoneInfo(zone))
        try:
            response = self.get_response(request)
        finally:
            # The thread serves other requests (and, in tests, other code) next: nothing of this one stays active.
            timezone.deactivate()
            translation.activate(previous_language)
        patch_vary_headers(response, ("Cookie", "Accept-Language"))
        response.headers.setdefault("Content-Language", request.LANGUAGE_CODE)
        return response


def _browser_language(request) -> str | None:
    """The first language of the Accept-Language header that we offer (zh-CN → zh-hans), if any."""
    header = request.META.get("HTTP_ACCEPT_LANGUAGE", "")
    for code, _quality in parse_accept_lang_header(header) if header else ():
        if code == "*":
            continue
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            continue
    return None


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


def machine_api(view):
    """Marks a view that machines call with a key of their own (the intake API): no browser session,
    CSRF token, signed-in user, flash messages or htmx. MachineApiMiddleware serves it without the
    middlewares that only provide those."""
    view.machine_api = True
    return view


class MachineApiMiddleware:
    """Serves the views marked @machine_api straight after tenant resolution and TenantContextMiddleware.

    The middlewares after this one (common, CSRF, authentication, member language, messages,
    frame options, htmx) do nothing such a view uses: it names no session or user, is exempt from
    CSRF, renders no page. Their cost per request is a quarter of the intake view's own Python
    work, so they are skipped for it; the two headers they would add are added here
    (X-Frame-Options as XFrameOptionsMiddleware, Content-Length as CommonMiddleware). Every other
    request goes down the whole stack. The middlewares above (CSP, health, tenant, security,
    static files, session, tenant context) still run for it.
    """

    PREFIX = "/api/"
    MATCHES_KEPT = 64

    def __init__(self, get_response):
        self.get_response = get_response
        # (urlconf, path) -> the match of a machine API view. Resolving /api/v1/leads tries some 40
        # patterns first (~0.2 ms, a twentieth of the intake's Python work); the URLconf does not
        # change while the process runs. Only machine API paths are kept, so the map stays small.
        self.matches = {}

    def __call__(self, request):
        if not request.path_info.startswith(self.PREFIX):
            return self.get_response(request)
        match = self._machine_api_match(request)
        if match is None:
            return self.get_response(request)
        request.resolver_match = match
        response = match.func(request, *match.args, **match.kwargs)
        if response.get("X-Frame-Options") is None:
            response["X-Frame-Options"] = settings.X_FRAME_OPTIONS
        if not response.streaming and not response.has_header("Content-Length"):
            response.headers["Content-Length"] = str(len(response.content))
        return response

    def _machine_api_match(self, request):
        key = (getattr(request, "urlconf", None), request.path_info)
        match = self.matches.get(key)
        if match is None:
            try:
                match = resolve(request.path_info, key[0])
            except Resolver404:
                return None
            if not getattr(match.func, "machine_api", False):
                return None
            if len(self.matches) >= self.MATCHES_KEPT:
                self.matches.clear()
            self.matches[key] = match
        return match
