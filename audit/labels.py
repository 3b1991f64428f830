"""Human names for audit verbs and for the system actors that write entries (the hash chain
keeps the actor label as written; it is named in the reader's language when shown). Each
app registers its own from its AppConfig.ready()."""
from django.utils.translation import gettext_lazy as _

_LABELS: dict[str, str] = {
    "audit.chain_verified": _("audit chain verified"),
    "audit.chain_broken": _("audit chain found broken"),
    "interaction_record.exported": _("customer interaction record exported"),
    "interaction_record.downloaded": _("customer interaction record downloaded"),
}


def register(labels: dict[str, str]) -> None:
    _LABELS.update(labels)


def verb_label(verb: str) -> str:
    """The registered name of `verb`, or the verb itself when nobody named it."""
    return str(_LABELS.get(verb, verb))


_ACTORS: dict[str, str] = {
    "audit verifier": _("audit verifier"),
    "pool scan": _("pool scan"),
    "sla_scan": _("SLA scan"),
    "seed_demo": _("demo data"),
    "web form": _("web form"),
    "csv import": _("CSV import"),
    "import_leads command": _("lead import command"),
    "import_roster command": _("roster import command"),
    "export_interactions command": _("interaction record export command"),
}


def actor_label(label: str) -> str:
    """A system actor's name in the reader's language; a person's user name as it is."""
    return str(_ACTORS.get(label, label))
