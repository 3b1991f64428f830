"""Each week the latest checkpoint goes to the tenant's admins: in-app and by e-mail, a copy
outside the database that the operator cannot take back. The notification row (one per admin
and ISO week, see `notify`) is the claim: a second run in the same week sends nothing."""
import logging

from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation

from salesflow.i18n import message, render
from salesflow.notifications.models import Channel
from salesflow.notifications.services.inbox import channels_enabled, notify
from salesflow.org.models import Member, Role
from salesflow.org.selectors import tenant_settings_get

from . import messages  # noqa: F401  (registers the message keys)
from .keys import verifier_key
from .services import checkpoint_create

logger = logging.getLogger(__name__)


def checkpoint_mail_admins(*, now) -> int:
    """Checkpoint now, then tell each admin once this ISO week; returns how many were told."""
    checkpoint = checkpoint_create(reason="weekly", now=now)
    year, week, _ = timezone.localtime(now, tenant_settings_get().tzinfo).isocalendar()
    admins = list(Member.objects.filter(role=Role.ADMIN, user__is_active=True).select_related("user"))
    title = message("audit.checkpoint_weekly.title", size=checkpoint.tree_size)
    body = message("audit.checkpoint_weekly.body", note=checkpoint.note, vkey=str(verifier_key()))
    with transaction.atomic():
        created = notify(recipients=[m.user for m in admins], event_key=f"audit.checkpoint_weekly:{year}-W{week:02d}",
                         title=title, body=body, kind="info")
    if any(channel.kind == Channel.Kind.EMAIL for channel in channels_enabled()):
        return len(created)  # the tenant's e-mail channel delivers it (with retries): one e-mail, not two
    by_user = {m.user_id: m for m in admins}
    for notification in created:
        member = by_user[notification.recipient_id]
        if not member.user.email:
            continue
        with translation.override(member.language or tenant_settings_get().default_language):
            try:
                send_mail(render(title), render(body), None, [member.user.email])
            except OSError as exc:
                logger.warning("weekly checkpoint e-mail to admin %s failed: %s", member.user_id, exc)
    return len(created)
