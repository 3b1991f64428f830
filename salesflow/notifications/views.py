from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from salesflow.redirects import redirect_next

from .selectors import notification_list, notification_unread_count
from .services import notification_mark_read


@login_required
@require_GET
def inbox(request):
    page = Paginator(notification_list(user=request.user), 30).get_page(request.GET.get("page"))
    return render(request, "notifications/inbox.html", {"page": page, "unread": notification_unread_count(user=request.user)})


@login_required
@require_GET
def badge(request):
    return render(request, "notifications/_badge.html", {"unread": notification_unread_count(user=request.user)})


@login_required
@require_POST
def mark_read(request):
    ids = [int(value) for value in request.POST.getlist("id") if value.isdigit()]
    notification_mark_read(user=request.user, notification_ids=ids or None)
    return redirect_next(request, "notifications:inbox")
