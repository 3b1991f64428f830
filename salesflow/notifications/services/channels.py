"""Trying a channel out from the admin."""
from django.db import transaction
from django.utils import translation

from audit.services import audit_record
from salesflow import i18n

from ..errors import PermanentFailure, TemporaryFailure
from ..models import Channel, Delivery
from ..transports import Message
from .deliveries import SendOutcome, tenant_default_language, transport_send
from .inbox import absolute_link


def channel_test_send(*, actor, channel: Channel) -> SendOutcome:
    """Send a test message through `channel` right now (to the admin's own address for e-mail).

    The error reported names a status or an error code, never what the endpoint answered.
    """
    with translation.override(tenant_default_language()):
        message = Message(
            subject=i18n.render(i18n.message("notifications.test_subject")),
            text=i18n.render(i18n.message("notifications.test_body", channel=channel.name)),
            link=absolute_link("/notifications/"),
        )
    target = getattr(actor, "email", "") if channel.kind == Channel.Kind.EMAIL else f"robot:{channel.pk}"
    try:
        if not target:
            raise PermanentFailure("your user has no e-mail address to test with")
        transport_send(channel, target=target, message=message)
        outcome = SendOutcome(status=Delivery.Status.SENT)
    except (TemporaryFailure, PermanentFailure) as exc:
        outcome = SendOutcome(status=Delivery.Status.FAILED, error=str(getattr(exc, "message", exc)))
    with transaction.atomic():
        audit_record(
            actor=actor, verb="notification_channel.tested", target=channel,
            payload={"status": outcome.status, "error": outcome.error},
        )
    return outcome
