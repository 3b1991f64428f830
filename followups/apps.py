from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FollowupsConfig(AppConfig):
    name = "followups"
    verbose_name = _("Follow-ups")

    def ready(self):
        from audit.labels import register

        from .messages import register_param_kinds
        from .models import AlertKind

        register_param_kinds()

        register({f"sla.{kind.value}": kind.label for kind in AlertKind})
        register({
            "account.created": _("account created"),
            "contact.created": _("contact added to the decision chain"),
            "followup.logged": _("follow-up logged"),
            "lead.converted_to_opportunity": _("lead converted to an opportunity"),
            "opportunity.created": _("opportunity created"),
            "opportunity.stage_changed": _("stage changed"),
            "slapolicy.changed": _("SLA policy changed"),
            "stage.action_pack_changed": _("stage action pack changed"),
            "task.completed": _("task completed"),
            "followups.defaults_installed": _("default pipeline and templates installed"),
            "demo.followups_seeded": _("demo follow-ups seeded"),
        })
