"""One validator for every capture channel: the API, CSV rows and the web form all pass through it.

Problems are stored messages (salesflow.i18n): the API, the form and the import's error
report each render them for their reader (`problems_text`).
"""
from dataclasses import dataclass

from salesflow.i18n import message, render

from ..models import BudgetGrade, Channel, Tier
from .normalize import email_normalize, phone_normalize


@dataclass(frozen=True)
class FieldSpec:
    max_length: int | None = None
    choices: tuple[str, ...] | None = None
    integer: tuple[int, int] | None = None
    required: bool = False


FIELDS: dict[str, FieldSpec] = {
    "company": FieldSpec(max_length=200),
    "contact_name": FieldSpec(max_length=100, required=True),
    "phone": FieldSpec(max_length=40),
    "email": FieldSpec(max_length=254),
    "channel": FieldSpec(choices=tuple(Channel.values)),
    "industry": FieldSpec(max_length=64),
    "region": FieldSpec(max_length=100),
    "product_line": FieldSpec(max_length=64),
    "budget_grade": FieldSpec(choices=tuple(BudgetGrade.values)),
    "industry_match": FieldSpec(integer=(0, 100)),
    "tier": FieldSpec(choices=tuple(Tier.values)),
    "external_id": FieldSpec(max_length=100),
    "note": FieldSpec(max_length=2000),
}


def lead_payload_validate(data, *, coerce_strings: bool = False) -> tuple[dict, dict[str, list[str]]]:
    """Clean values and every field's errors. With `coerce_strings` (CSV, forms) "42" counts as 42."""
    if not isinstance(data, dict):
        return {}, {"body": [message("lead.invalid.object")]}
    errors: dict[str, list[dict]] = {}
    clean: dict = {}
    for name in data:
        if name not in FIELDS:
            errors.setdefault(name, []).append(message("lead.invalid.unknown_field"))
    for name, spec in FIELDS.items():
        value = data.get(name)
        if isinstance(value, str):
            value = value.strip()
        if value is None or value == "":
            if spec.required:
                errors.setdefault(name, []).append(message("lead.invalid.required"))
            clean[name] = None if spec.integer else ""
            continue
        if spec.integer:
            if coerce_strings and isinstance(value, str) and value.lstrip("-").isdigit():
                value = int(value)
            if isinstance(value, bool) or not isinstance(value, int):
                errors.setdefault(name, []).append(message("lead.invalid.integer"))
                continue
            low, high = spec.integer
            if not low <= value <= high:
                errors.setdefault(name, []).append(message("lead.invalid.range", low=low, high=high))
                continue
            clean[name] = value
            continue
        if not isinstance(value, str):
            errors.setdefault(name, []).append(message("lead.invalid.string"))
            continue
        if "\x00" in value:
            errors.setdefault(name, []).append(message("lead.invalid.nul"))
            continue
        if spec.choices and value not in spec.choices:
            errors.setdefault(name, []).append(message("lead.invalid.choice", allowed=", ".join(spec.choices)))
            continue
        if spec.max_length and len(value) > spec.max_length:
            errors.setdefault(name, []).append(message("lead.invalid.max_length", max=spec.max_length))
            continue
        clean[name] = value
    clean["phone_normalized"] = clean["email_normalized"] = ""
    if clean.get("phone") and "phone" not in errors:
        try:
            clean["phone_normalized"] = phone_normalize(clean["phone"])
        except ValueError:
            errors.setdefault("phone", []).append(message("lead.invalid.phone"))
    if clean.get("email") and "email" not in errors:
        try:
            clean["email_normalized"] = email_normalize(clean["email"])
        except ValueError:
            errors.setdefault("email", []).append(message("lead.invalid.email"))
    if not data.get("phone") and not data.get("email") and "phone" not in errors and "email" not in errors:
        errors["phone"] = [message("lead.invalid.no_contact")]
    return clean, errors


def problems_text(problems: dict[str, list]) -> dict[str, list[str]]:
    """Each field's problems in the active language."""
    return {field: [render(problem) for problem in found] for field, found in problems.items()}
