from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgConfig(AppConfig):
    name = "salesflow.org"
    label = "org"
    verbose_name = _("Organisation")

    def ready(self):
        from audit.labels import register

        from .history import connect

        connect()

        register({
            "tenant.provisioned": _("tenant provisioned"),
            "roster.imported": _("roster imported"),
            "settings.changed": _("settings changed"),
            "member.availability_changed": _("availability changed"),
            "member.language_changed": _("language changed"),
            "member.created": _("member added"),
            "member.changed": _("member changed"),
            "member.deleted": _("member removed"),
            "team.created": _("team created"),
            "team.changed": _("team changed"),
            "region.created": _("region created"),
            "region.changed": _("region changed"),
            "holiday.created": _("holiday added"),
            "holiday.changed": _("holiday changed"),
            "user.created": _("user created"),
            "user.changed": _("user changed"),
            "demo.org_seeded": _("demo organisation seeded"),
            "vocabulary.created": _("vocabulary value added"),
            "vocabulary.changed": _("vocabulary value changed"),
            "vocabulary.defaults_installed": _("default vocabularies installed"),
            "vocabulary.values_added": _("vocabulary values added"),
        })
