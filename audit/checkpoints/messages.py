from django.utils.translation import gettext_lazy as _

from salesflow.i18n import define

define({
    "audit.checkpoint_weekly.title": _("This week's signed audit checkpoint: %(size)s entries"),
    "audit.checkpoint_weekly.body": _(
        "Keep this message: it is a copy of the audit log's signed checkpoint outside SalesFlow. If the log were "
        "ever rewritten, this checkpoint would no longer match it.\n\n%(note)s\nVerifier key: %(vkey)s"
    ),
})
