"""Message keys of leads (routing reasons, notifications), and how stored vocabulary codes read (salesflow.i18n)."""
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from salesflow.csvtext import UNDECODABLE
from salesflow.i18n import define, message, param_kind, render, typed
from salesflow.org.vocabularies import vocabulary_label

define({
    "lead.assigned.title": _("New lead: %(name)s"),
    "lead.assigned.body": _("%(details)s\n%(reason)s"),
    "lead.grade": _("grade %(grade)s"),
    "lead.resubmitted.title": _("Lead submitted again: %(name)s"),
    "lead.resubmitted.body": _("%(contact)s · %(channel)s"),
    "routing.no_rule": _("no routing rule matched: public pool"),
    "routing.rule_to_pool": _("rule “%(rule)s” sends leads to the public pool"),
    "routing.no_match": _("pool “%(pool)s” has no rep matching %(wanted)s: public pool"),
    "routing.want.rule": _("the rule"),
    "routing.want.region": _("region %(value)s"),
    "routing.want.product_line": _("product line %(value)s"),
    "routing.want.industry": _("industry %(value)s"),
    "routing.want.years": _("≥ %(years)s years' experience"),
    "routing.want.new_hires": _("new hires"),
    "routing.nobody_free": _("nobody in pool “%(pool)s” is available with free capacity: public pool"),
    "routing.round_robin": _("round robin in “%(pool)s”: next in turn"),
    "routing.least_loaded": _("least loaded in “%(pool)s”"),
    "routing.top": _("top performer in “%(pool)s”: 7-day close rate %(rate)s > %(threshold)s"),
    "routing.top_fallback": _("top performer in “%(pool)s”: nobody above %(threshold)s, best rate available (%(rate)s)"),
    "routing.assigned_to": _("%(reason)s → %(rep)s"),
    "routing.filled_up": _("%(reason)s; everyone filled up while routing: public pool"),
    "routing.released": _("released: no follow-up within %(duration)s of the claim"),
    "routing.reassigned": _("reassigned by %(actor)s: %(reason)s"),
    "routing.claimed": _("claimed from the public pool by %(actor)s"),
    "routing.why.away": _("away (%(availability)s) until %(until)s"),
    "routing.why.open_end": _("further notice"),
    "routing.why.capacity": _("at capacity (%(open)s/%(capacity)s)"),
    "routing.why.filled": _("reached capacity while routing"),
    "routing.why.other_first": _("another rep came first by the strategy"),
    "routing.why.cooling": _("cooling %(duration)s"),
    "import.row_problem": _("%(field)s: %(problem)s"),
    "import.unreadable": _("the file cannot be read as CSV from here on (%(detail)s)"),
    "import.undecodable": UNDECODABLE,
    # What the one lead validator finds wrong (leads/services/validation.py).
    "lead.invalid.whole_number": _("Must be a whole number."),
    "lead.invalid.between": _("Must be between %(low)s and %(high)s."),
    "lead.invalid.string": _("Must be a string."),
    "lead.invalid.nul": _("Must not contain NUL characters."),
    "lead.invalid.unicode": _("Must be valid Unicode text (lone surrogates such as \\ud800 are not allowed)."),
    "lead.invalid.vocabulary": _("%(list)s “%(value)s” is not in the list; allowed: %(allowed)s."),
    "lead.invalid.one_of": _("Must be one of: %(values)s."),
    "lead.invalid.max_length": _("At most %(n)s characters."),
    "lead.invalid.json_object": _("Send a JSON object."),
    "lead.invalid.unknown_field": _("Unknown field."),
    "lead.invalid.required": _("This field is required."),
    "lead.invalid.phone": _("Not a phone number (mainland numbers may omit +86)."),
    "lead.invalid.email": _("Not an e-mail address."),
    "lead.invalid.contact": _("Give a phone number or an e-mail address (phone or email must not be blank)."),
})

VERDICTS = {
    "eligible": pgettext_lazy("routing candidate", "eligible"),
    "skipped": pgettext_lazy("routing candidate", "skipped"),
    "chosen": pgettext_lazy("routing candidate", "chosen"),
    "not chosen": pgettext_lazy("routing candidate", "not chosen"),
    "former claimer": pgettext_lazy("routing candidate", "former claimer"),
    "previous owner": pgettext_lazy("routing candidate", "previous owner"),
}

SCORE_PARTS = {
    "industry_match": _("industry match"),
    "budget_grade": _("budget grade"),
    "channel": _("channel"),
    "tier": _("customer tier"),
}


def verdict_label(code) -> str:
    return str(VERDICTS.get(code, code or ""))


def vocabulary_text(kind: str, code) -> str:
    """A vocabulary code in the reader's language (salesflow.org.vocabularies)."""
    if code in (None, ""):
        return "—"
    return vocabulary_label(kind, str(code))


def _vocab_param(raw) -> str:
    kind, code = raw
    return vocabulary_text(kind, code)


def _availability_param(raw) -> str:
    from salesflow.org.models import Availability

    return str(Availability(raw).label) if raw in Availability.values else str(raw)


def score_parts(breakdown: dict) -> list[tuple[str, str, object]]:
    """(label, value, points) of each part of a stored score breakdown, in the reader's language."""
    parts = []
    for name, part in (breakdown or {}).get("parts", {}).items():
        value = part.get("value")
        if name in ("channel", "tier"):
            shown = vocabulary_text(name, value)
        else:
            shown = "—" if value in (None, "") else str(value)
        parts.append((str(SCORE_PARTS.get(name, name)), shown, part.get("points")))
    return parts


def candidate_line(candidate: dict) -> str:
    """One candidate of a routing story — name, verdict, why and open/capacity — punctuated for the reader's
    language (full-width colon and brackets in Chinese)."""
    line = _("%(name)s: %(verdict)s") % {"name": candidate.get("name") or candidate.get("user_id"),
                                         "verdict": verdict_label(candidate.get("verdict"))}
    why = candidate.get("why")
    if why:
        line = _("%(line)s — %(why)s") % {"line": line, "why": render(why)}
    says_capacity = isinstance(why, dict) and why.get("key") == "routing.why.capacity"  # (a legacy why is a sentence)
    if candidate.get("open") is not None and not says_capacity:
        line = _("%(line)s (%(open)s/%(capacity)s)") % {"line": line, "open": candidate["open"],
                                                         "capacity": candidate.get("capacity")}
    return line


def _vocab_kind_param(raw) -> str:
    from salesflow.org.models import VocabularyKind

    return str(VocabularyKind(raw).label) if raw in VocabularyKind.values else str(raw)


def register_param_kinds() -> None:
    param_kind("vocab_kind", _vocab_kind_param)
    param_kind("vocab", _vocab_param)
    param_kind("availability", _availability_param)
    param_kind("lead_field", lead_field_label)


def import_row_problems(problems: dict[str, list]) -> list[dict]:
    """A bad CSV row's problems (the validator's stored messages), the field named by its label,
    all read in the reader's language."""
    return [message("import.row_problem", field=typed("lead_field", name), problem=typed("msg", problem))
            for name, found in problems.items() for problem in found]


def lead_field_label(name) -> str:
    from .models import Lead

    try:
        return str(Lead._meta.get_field(name).verbose_name)
    except Exception:  # an unknown column name from the file: shown as it was written
        return str(name)


def import_error_text(error: dict) -> str:
    """One reported row's problems in the reader's language (rows stored before messages: their text)."""
    if "problems" in error:
        return "; ".join(render(problem) for problem in error["problems"])
    return render(error.get("message"), fallback=str(error.get("reason", "")))
