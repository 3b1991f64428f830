"""One validator for every capture channel: the API, CSV rows and the web form all pass through it."""
from dataclasses import dataclass

from salesflow.inputs import text_problem

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
        return {}, {"body": ["Send a JSON object."]}
    errors: dict[str, list[str]] = {}
    clean: dict = {}
    for name in data:
        if name not in FIELDS:
            errors.setdefault(name, []).append("Unknown field.")
    for name, spec in FIELDS.items():
        value = data.get(name)
        if isinstance(value, str):
            value = value.strip()
        if value is None or value == "":
            if spec.required:
                errors.setdefault(name, []).append("This field is required.")
            clean[name] = None if spec.integer else ""
            continue
        if spec.integer:
            if coerce_strings and isinstance(value, str) and value.lstrip("-").isdigit():
                value = int(value)
            if isinstance(value, bool) or not isinstance(value, int):
                errors.setdefault(name, []).append("Must be a whole number.")
                continue
            low, high = spec.integer
            if not low <= value <= high:
                errors.setdefault(name, []).append(f"Must be between {low} and {high}.")
                continue
            clean[name] = value
            continue
        if not isinstance(value, str):
            errors.setdefault(name, []).append("Must be a string.")
            continue
        if text_problem(value):
            errors.setdefault(name, []).append(text_problem(value))
            continue
        if spec.choices and value not in spec.choices:
            errors.setdefault(name, []).append(f"Must be one of: {', '.join(spec.choices)}.")
            continue
        if spec.max_length and len(value) > spec.max_length:
            errors.setdefault(name, []).append(f"At most {spec.max_length} characters.")
            continue
        clean[name] = value
    clean["phone_normalized"] = clean["email_normalized"] = ""
    if clean.get("phone") and "phone" not in errors:
        try:
            clean["phone_normalized"] = phone_normalize(clean["phone"])
        except ValueError:
            errors.setdefault("phone", []).append("Not a phone number (mainland numbers may omit +86).")
    if clean.get("email") and "email" not in errors:
        try:
            clean["email_normalized"] = email_normalize(clean["email"])
        except ValueError:
            errors.setdefault("email", []).append("Not an e-mail address.")
    # Blank after stripping counts as missing: "   " is no way to reach anyone.
    if not clean.get("phone") and not clean.get("email") and "phone" not in errors and "email" not in errors:
        errors["phone"] = ["Give a phone number or an e-mail address."]
    return clean, errors
