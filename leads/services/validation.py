"""One validator for every capture channel: the API, CSV rows and the web form all pass through it.

Regions, industries, product lines, tiers and channels are the tenant's vocabularies: a
label or synonym ("华东", "East China") is stored as its canonical code, and an unknown value
is refused naming the allowed ones. Problems are stored messages (salesflow.i18n): the API
and the forms read them in the active language, a CSV import keeps them for its reader's."""
from dataclasses import dataclass

from salesflow import i18n
from salesflow.inputs import text_problem
from salesflow.org.vocabularies import vocabulary_codes, vocabulary_resolve

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


Problem = dict  # a stored message: {"key", "params"}


def _integer(value, spec: FieldSpec, coerce_strings: bool) -> tuple[int | None, Problem | None]:
    if coerce_strings and isinstance(value, str) and value.lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        return None, i18n.message("lead.invalid.whole_number")
    low, high = spec.integer
    if not low <= value <= high:
        return None, i18n.message("lead.invalid.between", low=low, high=high)
    return value, None


def _text(value, spec: FieldSpec) -> tuple[str | None, Problem | None]:
    if not isinstance(value, str):
        return None, i18n.message("lead.invalid.string")
    if text_problem(value):
        return None, i18n.message("lead.invalid.nul" if "\x00" in value else "lead.invalid.unicode")
    if spec.vocabulary:
        code = vocabulary_resolve(spec.vocabulary, value)
        if code:
            return code, None
        return None, i18n.message("lead.invalid.vocabulary", list=i18n.typed("vocab_kind", spec.vocabulary), value=value,
                                  allowed=", ".join(vocabulary_codes(spec.vocabulary)) or "—")
    if spec.choices and value not in spec.choices:
        return None, i18n.message("lead.invalid.one_of", values=", ".join(spec.choices))
    if spec.max_length and len(value) > spec.max_length:
        return None, i18n.message("lead.invalid.max_length", n=spec.max_length)
    return value, None


def lead_payload_validate(data, *, coerce_strings: bool = False) -> tuple[dict, dict[str, list[str]]]:
    """Clean values and every field's errors in the active language. With `coerce_strings` (CSV,
    forms) "42" counts as 42."""
    clean, problems = lead_payload_problems(data, coerce_strings=coerce_strings)
    return clean, {name: [i18n.render(problem) for problem in found] for name, found in problems.items()}


def lead_payload_problems(data, *, coerce_strings: bool = False) -> tuple[dict, dict[str, list[Problem]]]:
    """Clean values and every field's problems as stored messages."""
    if not isinstance(data, dict):
        return {}, {"body": [i18n.message("lead.invalid.json_object")]}
    errors: dict[str, list[Problem]] = {}
    clean: dict = {}
    for name in data:
        if name not in FIELDS:
            errors.setdefault(name, []).append(i18n.message("lead.invalid.unknown_field"))
    for name, spec in FIELDS.items():
        value = data.get(name)
        if isinstance(value, str):
            value = value.strip()
        if value is None or value == "":
            if spec.required:
                errors.setdefault(name, []).append(i18n.message("lead.invalid.required"))
            clean[name] = None if spec.integer else ""
            continue
        value, problem = _integer(value, spec, coerce_strings) if spec.integer else _text(value, spec)
        if problem:
            errors.setdefault(name, []).append(problem)
        else:
            clean[name] = value
    _contact_check(clean, errors)
    return clean, errors


def _contact_check(clean: dict, errors: dict[str, list[Problem]]) -> None:
    """Normalise phone and e-mail; a lead needs at least one of them, and blank does not count."""
    clean["phone_normalized"] = clean["email_normalized"] = ""
    if clean.get("phone") and "phone" not in errors:
        try:
            clean["phone_normalized"] = phone_normalize(clean["phone"])
        except ValueError:
            errors.setdefault("phone", []).append(i18n.message("lead.invalid.phone"))
    if clean.get("email") and "email" not in errors:
        try:
            clean["email_normalized"] = email_normalize(clean["email"])
        except ValueError:
            errors.setdefault("email", []).append(i18n.message("lead.invalid.email"))
    if not clean.get("phone") and not clean.get("email") and "phone" not in errors and "email" not in errors:
        errors["phone"] = [i18n.message("lead.invalid.contact")]
