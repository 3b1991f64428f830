from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "salesflow.notifications"
    label = "notifications"
    verbose_name = _("Notifications")

    def ready(self):
        from audit.labels import register

        from . import messages  # noqa: F401  (registers the layer's message keys)

        register({
            "notification_channel.tested": _("notification channel tested"),
            "notification_delivery.retried": _("notification sent again"),
        })
