"""Which pages each role is offered, and what a role that has no use for a page gets when it asks for one.

One table drives the top navigation (`nav_items`, via the `shell` context processor) so a finance user is not
offered the rep's pages, which would only ever be empty for them. `RolePagesMiddleware` answers a finance
user's direct request for a sales page with a 403 that says where their work is, and sends their home page
to the prepayments page.
"""
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_tenants.utils import get_public_schema_name

from salesflow.org.models import Role
from salesflow.org.scoping import member_for

SELLERS = frozenset({Role.REP, Role.MANAGER, Role.ADMIN})
MANAGERS = frozenset({Role.MANAGER, Role.ADMIN})
EVERYONE = frozenset({Role.REP, Role.MANAGER, Role.ADMIN, Role.FINANCE})
NO_MEMBER = None  # signed in without a place in the organisation (a bare staff login)


@dataclass(frozen=True)
class NavItem:
    url_name: str
    label: str
    roles: frozenset
    without_member: bool = False  # also offered to a signed-in user who is not a member


NAV = (
    NavItem("home", gettext_lazy("Home"), SELLERS, without_member=True),
    NavItem("team", gettext_lazy("Team"), MANAGERS),
    NavItem("followups:today", gettext_lazy("Today"), SELLERS),
    NavItem("followups:board", gettext_lazy("Board"), MANAGERS),
    NavItem("evidence:queue", gettext_lazy("Evidence review"), MANAGERS),
    NavItem("health:board", gettext_lazy("Health"), MANAGERS),
    NavItem("attribution:page", gettext_lazy("Attribution"), MANAGERS),
    NavItem("evidence:finance", gettext_lazy("Prepayments"), frozenset({Role.FINANCE, Role.ADMIN})),
    NavItem("followups:pipeline", gettext_lazy("Pipeline"), SELLERS),
    NavItem("followups:accounts", gettext_lazy("Customers"), SELLERS),
    NavItem("targets:index", gettext_lazy("Targets"), SELLERS),
    NavItem("forecasting:board", gettext_lazy("Forecast"), MANAGERS),
    NavItem("forecasting:commits", gettext_lazy("Commit"), frozenset({Role.REP})),
    NavItem("leads:index", gettext_lazy("Leads"), SELLERS, without_member=True),
    NavItem("leads:pool", gettext_lazy("Pool"), SELLERS, without_member=True),
)


def nav_items(role: str | None) -> list[NavItem]:
    """The pages offered to `role` (None: signed in without a member), in menu order; the inbox and the
    admin link are drawn by the template for everyone signed in."""
    return [item for item in NAV if (item.without_member if role is None else role in item.roles)]


# The sales pages a finance user has no use for: every page in these URL namespaces and these names,
# except the customer-facing ones a tenant host serves to anyone.
FINANCE_BLOCKED_NAMESPACES = frozenset({"followups", "leads", "targets", "forecasting", "health", "attribution"})
FINANCE_BLOCKED_NAMES = frozenset({"team", "evidence:queue"})
PUBLIC_NAMES = frozenset({"leads:web-form", "leads:web-form-thanks", "leads:api-intake", "leads:api-openapi"})


def finance_may_open(view_name: str) -> bool:
    if view_name in PUBLIC_NAMES:
        return True
    namespace = view_name.split(":", 1)[0] if ":" in view_name else ""
    return namespace not in FINANCE_BLOCKED_NAMESPACES and view_name not in FINANCE_BLOCKED_NAMES


class RolePagesMiddleware:
    """After authentication: a finance user's home is the prepayments page; a sales page answers 403 saying so."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if connection.schema_name == get_public_schema_name() or request.resolver_match is None:
            return None
        member = member_for(getattr(request, "user", None))
        if member is None or member.role != Role.FINANCE:
            return None
        view_name = request.resolver_match.view_name
        if view_name == "home":
            return redirect("evidence:finance")
        if not finance_may_open(view_name):
            raise PermissionDenied(_("This page is for the sales team. As finance you record prepayments on the "
                                     "Prepayments page."))
        return None
