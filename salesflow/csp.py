"""A Content-Security-Policy on every response, in development too so the browser tests see it.

Pages load scripts and styles from our own origin only: no inline <script>, no on* handler
attributes, no style attributes (htmx's own indicator <style> is switched off by the
htmx-config meta tag in base.html; its rules are in app.css). Nothing may frame a page
(`frame-ancestors 'none'` with X-Frame-Options DENY) except the public web form, which the
tenant's listed sites may embed (`@frame_ancestors_from_tenant`).
"""
from functools import wraps

POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
# Django's admin writes one <style> block on change lists without actions; its pages are for
# tenant admins only, and their scripts stay as strict as everywhere else.
ADMIN_STYLE = ["'self'", "'unsafe-inline'"]


# Django's own debug pages (DEBUG only: the yellow "Page not found" and the traceback page) carry one
# inline <style> block each; under our policy the browser blocks it and logs a CSP violation on every
# 404 in development. They are recognised by the robots meta tag Django writes into both.
DEBUG_PAGE_MARK = b'<meta name="robots" content="NONE,NOARCHIVE">'


def is_django_debug_page(response) -> bool:
    from django.conf import settings

    return (settings.DEBUG and response.status_code >= 400 and not getattr(response, "streaming", False)
            and DEBUG_PAGE_MARK in response.content[:2000])


def policy_header(*, frame_ancestors: list[str] | None = None, admin: bool = False) -> str:
    policy = dict(POLICY)
    if frame_ancestors:
        policy["frame-ancestors"] = ["'self'", *frame_ancestors]
    if admin:
        policy["style-src"] = ADMIN_STYLE
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in policy.items())


def frame_ancestors_from_tenant(view):
    """Let the sites in the tenant's settings (web_form_embed_origins) frame this view."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        origins = request.tenant_settings.embed_origins if getattr(request, "tenant_settings", None) else []
        response.csp_frame_ancestors = origins
        # Browsers that know CSP ignore X-Frame-Options when frame-ancestors is set; older ones
        # would refuse the listed sites too with DENY, so then the form sends none.
        response.xframe_options_exempt = bool(origins)
        return response

    return wrapper


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = policy_header(
                frame_ancestors=getattr(response, "csp_frame_ancestors", None),
                admin=request.path_info.startswith("/admin/") or is_django_debug_page(response),
            )
        return response
