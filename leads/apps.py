from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LeadsConfig(AppConfig):
    name = "leads"
    verbose_name = _("Leads")

    def ready(self):
        from audit.labels import register

        from . import receivers  # noqa: F401  (connects the signal handlers)
        from .messages import register_param_kinds

        register_param_kinds()

        register({
            "lead.created": _("lead received and routed"),
            "lead.resubmitted": _("lead submitted again"),
            "lead.merged": _("leads merged"),
            "lead.routed": _("lead routed"),  # entries written before routing joined lead.created
            "lead.accepted": _("lead accepted"),
            "lead.first_touch": _("first touch"),
            "lead.touched": _("lead touched"),
            "lead.claimed": _("lead claimed from the pool"),
            "lead.released": _("lead released to the pool"),
            "lead.reassigned": _("lead reassigned"),
            "lead.converted": _("lead converted"),
            "lead.lost": _("lead lost"),
            "lead_import.uploaded": _("lead file uploaded"),
            "lead_import.started": _("lead import started"),
            "lead_import.finished": _("lead import finished"),
            "intake_key.created": _("intake key created"),
            "intake_key.revoked": _("intake key revoked"),
            "routing_rule.changed": _("routing rule changed"),
            "routing_rules.defaults_installed": _("default routing rules installed"),
        })
