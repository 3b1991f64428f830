"""Human names for audit verbs. Each app registers its own from its AppConfig.ready()."""
from django.utils.translation import gettext_lazy as _

_LABELS: dict[str, str] = {
    "audit.chain_verified": _("audit chain verified"),
    "audit.chain_broken": _("audit chain found broken"),
}


def register(labels: dict[str, str]) -> None:
    _LABELS.update(labels)


def verb_label(verb: str) -> str:
    """The registered name of `verb`, or the verb itself when nobody named it."""
    return str(_LABELS.get(verb, verb))
