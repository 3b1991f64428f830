"""One validator for every capture channel: the API, CSV rows and the web form all pass through it.

Regions, industries, product lines, tiers and channels are the tenant's vocabularies: a
label or synonym ("华东", "East China") is stored as its canonical code, and an unknown value
is refused naming the allowed ones. Messages are in the active language."""
from dataclasses import dataclass

from django.utils.translation import gettext as _

from salesflow.inputs import text_problem
from salesflow.org.vocabularies import vocabulary_resolve, vocabulary_unknown_message

from ..models import BudgetGrade
from .normalize import email_normalize, phone_normalize


@dataclass(frozen=True)
class FieldSpec:
    max_length: int | None = None
    choices: tuple[str, ...] | None = None
    integer: tuple[int, int] | None = None
    required: bool = False
    vocabulary: str | None = None


FIELDS: dict[str, FieldSpec] = {
    "company": FieldSpec(max_length=200),
    "contact_name": FieldSpec(max_length=100, required=True),
    "phone": FieldSpec(max_length=40),
    "email": FieldSpec(max_length=254),
    "channel": FieldSpec(max_length=20, vocabulary="channel"),
    "industry": FieldSpec(max_length=64, vocabulary="industry"),
    "region": FieldSpec(max_length=100, vocabulary="region"),
    "product_line": FieldSpec(max_length=64, vocabulary="product_line"),
    "budget_grade": FieldSpec(choices=tuple(BudgetGrade.values)),
    "industry_match": FieldSpec(integer=(0, 100)),
    "tier": FieldSpec(max_length=32, vocabulary="tier"),
    "external_id": FieldSpec(max_length=100),
    "note": FieldSpec(max_length=2000),
}


def _integer(value, spec: FieldSpec, coerce_strings: bool) -> tuple[int | None, str]:
    if coerce_strings and isinstance(value, str) and value.lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        return None, _("Must be a whole number.")
    low, high = spec.integer
    if not low <= value <= high:
        return None, _("Must be between %(low)d and %(high)d.") % {"low": low, "high": high}
    return value, ""


def _text(name: str, value, spec: FieldSpec) -> tuple[str | None, str]:
    if not isinstance(value, str):
        return None, _("Must be a string.")
    problem = text_problem(value)
    if problem:
        return None, problem
    if spec.vocabulary:
        code = vocabulary_resolve(spec.vocabulary, value)
        return (code, "") if code else (None, vocabulary_unknown_message(spec.vocabulary, value))
    if spec.choices and value not in spec.choices:
        return None, _("Must be one of: %(values)s.") % {"values": ", ".join(spec.choices)}
    if spec.max_length and len(value) > spec.max_length:
        return None, _("At most %(n)d characters.") % {"n": spec.max_length}
    return value, ""


def lead_payload_validate(data, *, coerce_strings: bool = False) -> tuple[dict, dict[str, list[str]]]:
    """Clean values and every field's errors. With `coerce_strings` (CSV, forms) "42" counts as 42."""
    if not isinstance(data, dict):
        return {}, {"body": [_("Send a JSON object.")]}
    errors: dict[str, list[str]] = {}
    clean: dict = {}
    for name in data:
        if name not in FIELDS:
            errors.setdefault(name, []).append(_("Unknown field."))
    for name, spec in FIELDS.items():
        value = data.get(name)
        if isinstance(value, str):
            value = value.strip()
        if value is None or value == "":
            if spec.required:
                errors.setdefault(name, []).append(_("This field is required."))
            clean[name] = None if spec.integer else ""
            continue
        value, problem = _integer(value, spec, coerce_strings) if spec.integer else _text(name, value, spec)
        if problem:
            errors.setdefault(name, []).append(problem)
        else:
            clean[name] = value
    _contact_check(clean, errors)
    return clean, errors


def _contact_check(clean: dict, errors: dict[str, list[str]]) -> None:
    """Normalise phone and e-mail; a lead needs at least one of them, and blank does not count."""
    clean["phone_normalized"] = clean["email_normalized"] = ""
    if clean.get("phone") and "phone" not in errors:
        try:
            clean["phone_normalized"] = phone_normalize(clean["phone"])
        except ValueError:
            errors.setdefault("phone", []).append(_("Not a phone number (mainland numbers may omit +86)."))
    if clean.get("email") and "email" not in errors:
        try:
            clean["email_normalized"] = email_normalize(clean["email"])
        except ValueError:
            errors.setdefault("email", []).append(_("Not an e-mail address."))
    if not clean.get("phone") and not clean.get("email") and "phone" not in errors and "email" not in errors:
        errors["phone"] = [_("Give a phone number or an e-mail address (phone or email must not be blank).")]
