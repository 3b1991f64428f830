"""Request bodies are checked here before anything parses them into models.

PostgreSQL refuses NUL in text and jsonb, psycopg cannot encode a lone surrogate (which JSON's
\\ud800 escapes produce), and Python's JSON parser recurses once per nesting level: each of
those turned a bad body into a server error. Every JSON endpoint goes through `json_body`,
and `text_problem` names what is wrong with one string for forms and CSV rows.
"""
import hashlib
import json
import re
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

# Deeper than any document we accept (the intake body is flat): refused before parsing.
MAX_DEPTH = 32
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]")
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass
class BodyRefused(Exception):
    """The body cannot be taken: an HTTP status and errors in the §8 shape."""

    status: int
    errors: dict[str, list[str]] = field(default_factory=dict)


def text_problem(value: str) -> str | None:
    """Why PostgreSQL could not store this text, in the reader's language; None when it can."""
    if "\x00" in value:
        return _("Must not contain NUL characters.")
    if _SURROGATE.search(value):
        return _("Must be valid Unicode text (lone surrogates such as \\ud800 are not allowed).")
    return None


def nesting_depth(text: str) -> int:
    """The deepest bracket nesting of a JSON text, ignoring brackets inside strings."""
    depth = deepest = 0
    for char in _NOT_BRACKET.sub("", _STRING.sub("", text)):
        depth += 1 if char in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def _problems(value, path: str, errors: dict[str, list[str]]) -> None:
    """Collect text problems anywhere in a parsed document, under the top-level field they are in."""
    if isinstance(value, str):
        problem = text_problem(value)
        if problem and problem not in errors.get(path, []):
            errors.setdefault(path, []).append(problem)
    elif isinstance(value, list):
        for item in value:
            _problems(item, path, errors)
    elif isinstance(value, dict):
        for key, item in value.items():
            key_problem = text_problem(key)
            if key_problem:
                # A field name that cannot be stored cannot be echoed back either.
                errors.setdefault("body", []).append(_("A field name is not valid text: %(problem)s") % {"problem": key_problem})
                continue
            _problems(item, key if path == "body" else path, errors)


def content_type_is_json(request) -> bool:
    return (request.content_type or "").lower() == "application/json"


def json_body(request, *, max_bytes: int):
    """The parsed JSON body, or BodyRefused (415 not JSON, 413 too big, 400 malformed or unstorable)."""
    if not content_type_is_json(request):
        raise BodyRefused(415, {"Content-Type": [_("Send the body as application/json.")]})
    try:
        declared = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        declared = 0
    if declared > max_bytes:
        raise BodyRefused(413, {"body": [_("The body may be at most %(n)s bytes.") % {"n": max_bytes}]})
    raw = request.body
    if len(raw) > max_bytes:
        raise BodyRefused(413, {"body": [_("The body may be at most %(n)s bytes.") % {"n": max_bytes}]})
    return json_parse(raw)


def json_parse(raw: bytes):
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BodyRefused(400, {"body": [_("Malformed JSON (UTF-8 expected).")]}) from None
    if nesting_depth(text) > MAX_DEPTH:
        raise BodyRefused(400, {"body": [_("JSON nested deeper than %(n)s levels.") % {"n": MAX_DEPTH}]})
    try:
        data = json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        raise BodyRefused(400, {"body": [_("Malformed JSON (UTF-8 expected).")]}) from None
    errors: dict[str, list[str]] = {}
    _problems(data, "body", errors)
    if errors:
        raise BodyRefused(400, errors)
    return data


def canonical_hash(data) -> str:
    """The same JSON document, however its keys are ordered or spaced, hashes the same."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
