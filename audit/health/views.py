"""Health pages: the manager's board, the records behind each figure, a rep's diagnosis, "my health"."""
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.vary import vary_on_headers

from salesflow.org.scoping import is_manager, member_for
from salesflow.org.selectors import tenant_settings_get

from .diagnosis import rep_diagnose
from .filters import HealthFilter
from .periods import ROLLING_KEY, period_for
from .selectors import (
    customers_fewest_touches,
    health_board,
    health_clock,
    leads_waited_longest,
    opportunities_lacking_key_touches,
    scope_members,
    thresholds_get,
    user_get_in_scope,
)


def _member_or_404(user):
    member = member_for(user)
    if member is None:
        raise Http404
    return member


def _scope(request) -> tuple[HealthFilter, list]:
    """The filtered scope: managers' people (narrowed by region/team), a rep's own self."""
    _member_or_404(request.user)
    health_filter = HealthFilter(request.GET or None, members=scope_members(user=request.user))
    members = list(health_filter.qs) if health_filter.is_bound and health_filter.form.is_valid() else list(health_filter.queryset)
    return health_filter, members


@login_required
@vary_on_headers("HX-Request")
def board(request):
    _member_or_404(request.user)
    if not is_manager(request.user):
        raise PermissionDenied(_("Managers only."))
    health_filter, members = _scope(request)
    context = {"filter": health_filter, "board": health_board(members=members, period_key=health_filter.period_key),
               "query": request.GET.urlencode()}
    template = "audit/health/_board.html" if request.htmx else "audit/health/board.html"
    return render(request, template, context)


def _drill(request, template: str, load):
    health_filter, members = _scope(request)
    now = health_clock()
    period = period_for(health_filter.period_key, now=now, tz=tenant_settings_get().tzinfo)
    context = {"filter": health_filter, "period": period, "limits": thresholds_get(), "query": request.GET.urlencode(),
               "is_manager": is_manager(request.user)}
    context.update(load([m.user_id for m in members], period, now))
    return render(request, template, context)


@login_required
def customers_uncovered(request):
    def load(user_ids, period, now):
        total, rows = opportunities_lacking_key_touches(user_ids=user_ids, period=period)
        return {"total": total, "rows": rows}

    return _drill(request, "audit/health/customers_uncovered.html", load)


@login_required
def customers_touches(request):
    return _drill(request, "audit/health/customers_touches.html",
                  lambda user_ids, period, now: {"rows": customers_fewest_touches(user_ids=user_ids, period=period)})


@login_required
def leads_waiting(request):
    return _drill(request, "audit/health/leads_waiting.html",
                  lambda user_ids, period, now: {"rows": leads_waited_longest(user_ids=user_ids, period=period, now=now)})


@login_required
def diagnosis(request, user_id: int):
    viewer = _member_or_404(request.user)
    subject = user_get_in_scope(viewer=request.user, user_id=user_id)
    if subject is None:
        raise Http404
    member = subject.member
    team_ids = list(member.team.members.values_list("user_id", flat=True)) if member.team_id else [subject.pk]
    now = timezone.now()
    context = {"subject": member, "diagnosis": rep_diagnose(rep_id=subject.pk, team_ids=team_ids, now=now),
               "limits": thresholds_get(), "is_manager": is_manager(request.user), "viewer": viewer}
    return render(request, "audit/health/diagnosis.html", context)


@login_required
@vary_on_headers("HX-Request")
def my_health(request):
    """A person's own figures (the card on a rep's Today page; a page of its own without htmx)."""
    member = _member_or_404(request.user)
    board = health_board(members=[member], period_key=ROLLING_KEY)
    context = {"board": board, "member": member, "mine": board.reps[0] if board.reps else None}
    template = "audit/health/_my_card.html" if request.htmx else "audit/health/mine.html"
    return render(request, template, context)
