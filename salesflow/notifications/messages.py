"""Message keys of the notifications layer itself (salesflow.i18n)."""
from django.utils.translation import gettext_lazy as _

from salesflow.i18n import define

define({
    # A group robot's post: the event's body, then who it concerns.
    "notifications.robot_body": _("%(body)s\n\n→ %(names)s"),
    "notifications.test_subject": _("SalesFlow test message"),
    "notifications.test_body": _("This channel (%(channel)s) works."),
})
