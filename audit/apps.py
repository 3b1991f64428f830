from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("Action audit log")

    def ready(self):
        from .health import messages  # noqa: F401  (registers the weekly report's message keys)
