"""Stored messages: a key and parameters, rendered in the reader's language when read.

Anything kept for later display (a notification, an alert, a routing reason, a score
breakdown) is stored as ``{"key": "<registered key>", "params": {...}}``, never as a
sentence. Each app registers its keys with lazily translated templates using named
``%(param)s`` placeholders (so makemessages sees them and translators may reorder).

A parameter is either plain data shown as it is (a company name, a number) or a typed
value rendered at read time, written ``{"$": kind, "v": value}``:

- ``msg``: a nested message;
- ``seconds``: a duration, shown in minutes, hours or days;
- ``at``: an ISO-8601 instant, shown in the active time zone;
- ``lines`` / ``list``: several parameters joined by new lines / commas;
- any kind an app registers with ``param_kind`` (a stage code, a vocabulary code…),
  looked up when rendered, so a renamed stage reads as it is called today.
"""
import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext

from salesflow.formatting import format_datetime, format_duration

logger = logging.getLogger(__name__)

_TEMPLATES: dict[str, Any] = {"text.verbatim": "%(text)s"}
_KINDS: dict[str, Callable[[Any], str]] = {}


class UnknownMessage(KeyError):
    pass


def define(templates: dict) -> None:
    """Register message keys → lazily translated templates (called at import of each app's messages module)."""
    _TEMPLATES.update(templates)


def param_kind(kind: str, renderer: Callable[[Any], str]) -> None:
    """Register how a typed parameter of `kind` reads (called from an AppConfig.ready())."""
    _KINDS[kind] = renderer


def verbatim(text: str) -> dict:
    """Data typed by a person (a summary, a name), stored as it is: it reads the same in every language."""
    return message("text.verbatim", text=text)


def is_defined(key: str) -> bool:
    return key in _TEMPLATES


def message(key: str, **params) -> dict:
    """A storable message; refuses keys nobody registered, so a typo fails where it is written."""
    if key not in _TEMPLATES:
        raise UnknownMessage(key)
    return {"key": key, "params": params}


def typed(kind: str, value) -> dict:
    return {"$": kind, "v": value}


def nested(msg: dict | None) -> dict | str:
    return typed("msg", msg) if msg else ""


def seconds(value: float | int) -> dict:
    return typed("seconds", int(value))


def instant(value: dt.datetime) -> dict:
    return typed("at", value.isoformat())


def lines(*values) -> dict:
    return typed("lines", [v for v in values if v not in (None, "")])


def listing(values) -> dict:
    return typed("list", [v for v in values if v not in (None, "")])


def render_param(value) -> str:
    if isinstance(value, dict) and "$" in value:
        kind, raw = value["$"], value.get("v")
        if kind == "msg":
            return render(raw)
        if kind == "seconds":
            return duration_text(raw)
        if kind == "at":
            return _instant_text(raw)
        if kind == "lines":
            return "\n".join(render_param(v) for v in raw or [])
        if kind == "list":
            return gettext(", ").join(render_param(v) for v in raw or [])
        renderer = _KINDS.get(kind)
        if renderer is None:
            return "" if raw is None else str(raw)
        return renderer(raw)
    if value is None:
        return "—"
    return str(value)


def render(msg, *, fallback: str = "") -> str:
    """`msg` in the active language; `fallback` (the text of a row stored before messages) when it has none."""
    if not msg:
        return fallback
    if isinstance(msg, str):  # a legacy sentence kept as it was
        return msg
    key = msg.get("key")
    if key is None and "text" in msg:
        return str(msg["text"])
    template = _TEMPLATES.get(key)
    if template is None:
        logger.warning("stored message with unknown key %r", key)
        return fallback or str(key)
    params = {name: render_param(value) for name, value in (msg.get("params") or {}).items()}
    try:
        return str(template) % params if params else str(template)
    except (KeyError, ValueError, TypeError):
        logger.warning("stored message %r does not fit its template", key)
        return fallback or str(template)


def duration_text(total_seconds) -> str:
    """A duration as a person says it ("2 天 12 小时", "47 minutes"): salesflow.formatting's rule."""
    return format_duration(max(int(total_seconds or 0), 0))


def _instant_text(raw) -> str:
    try:
        value = dt.datetime.fromisoformat(raw)
    except (TypeError, ValueError):
        return str(raw)
    return format_datetime(value, "long")
