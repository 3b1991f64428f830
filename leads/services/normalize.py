"""Phone and e-mail normalisation for dedup: the same person, however they typed it."""
import re

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

_SEPARATORS = re.compile(r"[\s\-().·]")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0[1-9]\d{1,2}\d{7,8}$")
_SERVICE = re.compile(r"^[48]00\d{7}$")
_INTERNATIONAL = re.compile(r"^\+[1-9]\d{6,14}$")


def phone_normalize(raw: str) -> str:
    """E.164 for a phone number, mainland China by default; raises ValueError when it is none."""
    value = _SEPARATORS.sub("", raw or "")
    if value.startswith("00"):
        value = "+" + value[2:]
    if value.startswith("+86"):
        value = value[3:]
    elif value.startswith("+"):
        if _INTERNATIONAL.match(value):
            return value
        raise ValueError("not a phone number")
    elif value.startswith("86") and len(value) == 13:
        value = value[2:]
    if _MOBILE.match(value) or _SERVICE.match(value):
        return "+86" + value
    if _LANDLINE.match(value):
        return "+86" + value[1:]
    if value and value[0] != "0" and _LANDLINE.match("0" + value):  # "+86 21 1234 5678"
        return "+86" + value
    raise ValueError("not a phone number")


def email_normalize(raw: str) -> str:
    value = (raw or "").strip()
    try:
        validate_email(value)
    except ValidationError:
        raise ValueError("not an e-mail address") from None
    local, _, domain = value.rpartition("@")
    return f"{local}@{domain.lower()}".lower()
