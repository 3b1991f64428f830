from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from audit.selectors import audit_recent
from salesflow.org.forms import AvailabilityForm
from salesflow.org.models import Member, Role
from salesflow.org.scoping import member_for, visible_user_ids
from salesflow.org.selectors import directed_region_names, member_list
from salesflow.org.services import member_availability_set, member_language_set


def _with_actor_names(entries):
    names = dict(Member.objects.filter(user_id__in={e.actor_id for e in entries if e.actor_id}).values_list("user_id", "full_name"))
    for entry in entries:
        entry.actor_name = names.get(entry.actor_id)
    return entries


def _home_context(user) -> dict:
    me = member_for(user)
    if me is not None:
        me.directed_region_names = directed_region_names(user)
    visible = visible_user_ids(user)
    members = list(member_list(user=user)) if me and me.role != Role.REP else []
    return {
        "me": me,
        "members": members,
        "away_count": sum(1 for m in members if m.availability != "available"),
        "recent": _with_actor_names(audit_recent(actor_ids=visible, limit=15)),
        "availability_form": AvailabilityForm(
            initial={"availability": me.availability, "away_from": me.away_from, "away_until": me.away_until}
        ) if me else None,
    }


@login_required
def home(request):
    if member_for(request.user) is None:
        raise Http404(_("You have no place in this organisation yet; ask your admin."))
    return render(request, "salesflow/home.html", _home_context(request.user))


@login_required
def team(request):
    context = {"members": list(member_list(user=request.user))}
    template = "salesflow/_team_table.html" if request.htmx else "salesflow/team.html"
    return render(request, template, context)


@login_required
@require_POST
def my_availability(request):
    me = member_for(request.user)
    if me is None:
        raise Http404
    form = AvailabilityForm(request.POST)
    if not form.is_valid():
        context = _home_context(request.user) | {"availability_form": form}
        return render(request, "salesflow/home.html", context, status=400)
    member_availability_set(
        actor=request.user,
        member=me,
        availability=form.cleaned_data["availability"],
        away_from=form.cleaned_data["away_from"],
        away_until=form.cleaned_data["away_until"],
        reason=form.cleaned_data["reason"],
    )
    messages.success(request, _("Your availability is saved."))
    return redirect("home")


@require_POST
def language_set(request):
    """The language switcher: this browser's cookie, and a signed-in person's saved preference
    (their e-mails and messages then come in it too)."""
    response = set_language(request)
    language = request.POST.get("language", "")
    me = member_for(request.user)
    if me is not None and language in dict(settings.LANGUAGES) and me.language != language:
        member_language_set(actor=request.user, member=me, language=language)
    return response


def csrf_failure(request, reason=""):
    """A refused form in the app's frame (navigation, a way back), in the reader's language."""
    return render(request, "403_csrf.html", status=403)


def favicon(request):
    """Browsers and crawlers ask for /favicon.ico whatever the page links: send them to the static one."""
    return redirect(static("favicon.ico"), permanent=True)
