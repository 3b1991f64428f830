"""Sign-in throttled per account and per address (salesflow.ratelimit counters).

Only failures count. Once either counter is full the form refuses before it checks the
password, so the right password guessed on attempt 31 does not get in either; the answer is
429 with Retry-After and a message saying how long to wait.
"""
import math

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import ngettext

from .clientip import client_ip
from .ratelimit import strikes_add, strikes_wait


def _buckets(request, username: str) -> list[tuple[str, int]]:
    return [
        (f"signin:account:{username.strip().casefold()}", settings.SIGNIN_FAILURES_PER_ACCOUNT),
        (f"signin:address:{client_ip(request)}", settings.SIGNIN_FAILURES_PER_ADDRESS),
    ]


def signin_wait(request, username: str) -> int | None:
    """Seconds before this account may try again from this address; None when it may now."""
    waits = [strikes_wait(bucket=bucket, limit=limit, window=settings.SIGNIN_WINDOW_SECONDS)
             for bucket, limit in _buckets(request, username)]
    waits = [wait for wait in waits if wait]
    return max(waits) if waits else None


def signin_failed(request, username: str) -> None:
    for bucket, _limit in _buckets(request, username):
        strikes_add(bucket=bucket, window=settings.SIGNIN_WINDOW_SECONDS)


class ThrottledSignInMixin:
    retry_after: int | None = None

    def clean(self):
        username = str(self.data.get("username") or "")[:300]
        self.retry_after = signin_wait(self.request, username)
        if self.retry_after:
            minutes = math.ceil(self.retry_after / 60)
            raise ValidationError(
                ngettext(
                    "Too many failed sign-ins for this account or from this network. Signing in is paused; "
                    "try again in %(minutes)d minute.",
                    "Too many failed sign-ins for this account or from this network. Signing in is paused; "
                    "try again in %(minutes)d minutes.",
                    minutes,
                ) % {"minutes": minutes},
                code="throttled",
            )
        try:
            return super().clean()
        except ValidationError:
            signin_failed(self.request, username)
            raise


class ThrottledAuthenticationForm(ThrottledSignInMixin, AuthenticationForm):
    pass


class ThrottledAdminAuthenticationForm(ThrottledSignInMixin, AdminAuthenticationForm):
    pass


class SignInView(auth_views.LoginView):
    """Django's sign-in view with the throttled form; a paused sign-in answers 429."""

    authentication_form = ThrottledAuthenticationForm

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.retry_after:
            response.status_code = 429
            response["Retry-After"] = str(form.retry_after)
        return response
