"""Sending one message through one outside channel.

Every transport answers the same way: it returns on success, raises `TemporaryFailure`
for what a later attempt may fix (network down, 5xx, the robot's rate limit),
`OutcomeUnknown` when the message went out and no answer came, and `PermanentFailure` for
what a later attempt will not fix (a bad token, a rejected signature, 4xx, a refused
endpoint). HTTP goes through `outbound` (allowed hosts and addresses only).
"""
import base64
import hashlib
import hmac
import json
import smtplib
import time
import urllib.parse
from dataclasses import dataclass

from django.core.mail import EmailMultiAlternatives, get_connection
from django.utils.html import escape, format_html

from . import outbound
from .errors import OutcomeUnknown, PermanentFailure, TemporaryFailure

HTTP_TIMEOUT = 5.0
WECOM_MARKDOWN_MAX_BYTES = 4096
WECOM_TEXT_MAX_BYTES = 2048
DINGTALK_MAX_BYTES = 20000
# Robot error codes that mean "slow down / try again", not "you are misconfigured".
DINGTALK_TEMPORARY_ERRCODES = {-1, 130101, 410100}
WECOM_TEMPORARY_ERRCODES = {-1, 45009, 45033}


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    link: str = ""
    # The delivery's reference (SF-<id>), the same on every attempt: a reader who gets a
    # message twice (a re-send after an attempt of unknown outcome) sees it is one alert.
    ref: str = ""
    # An HTML alternative for e-mail (Markdown bodies); plain text only when empty.
    html: str = ""

    @property
    def tail(self) -> str:
        return (f"\n{self.link}" if self.link else "") + (f"\n[{self.ref}]" if self.ref else "")


def truncate_utf8(value: str, max_bytes: int, *, ellipsis: str = "…") -> str:
    """`value` cut to at most `max_bytes` of UTF-8, never inside a character, marked when cut."""
    encoded = value.encode("utf-8")
    if len(encoded) <= max_bytes:
        return value
    room = max_bytes - len(ellipsis.encode("utf-8"))
    # errors="ignore" drops a trailing partial multi-byte sequence instead of emitting U+FFFD.
    return encoded[:room].decode("utf-8", errors="ignore") + ellipsis


def dingtalk_signed_url(webhook_url: str, secret: str, *, timestamp_ms: int | None = None) -> str:
    """DingTalk's 'additional signature': HMAC-SHA256 of "<timestamp ms>\\n<secret>", base64, URL-encoded."""
    if not secret:
        return webhook_url
    timestamp = str(timestamp_ms if timestamp_ms is not None else round(time.time() * 1000))
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp}\n{secret}".encode("utf-8"), hashlib.sha256).digest()
    sign = urllib.parse.quote_plus(base64.b64encode(digest))
    separator = "&" if urllib.parse.urlsplit(webhook_url).query else "?"
    return f"{webhook_url}{separator}timestamp={timestamp}&sign={sign}"


def dingtalk_payload(message: Message, *, message_format: str) -> dict:
    if message_format == "text":
        content = message.subject + "\n" + message.text + message.tail
        return {"msgtype": "text", "text": {"content": truncate_utf8(content, DINGTALK_MAX_BYTES)}}
    text = f"### {_md_escape(message.subject)}\n\n{message.text}"
    if message.link:
        text += f"\n\n[{message.link}]({message.link})"
    if message.ref:
        text += f"\n\n`{message.ref}`"
    return {"msgtype": "markdown", "markdown": {"title": message.subject[:64], "text": truncate_utf8(text, DINGTALK_MAX_BYTES)}}


def wecom_payload(message: Message, *, message_format: str) -> dict:
    if message_format == "text":
        content = message.subject + "\n" + message.text + message.tail
        return {"msgtype": "text", "text": {"content": truncate_utf8(content, WECOM_TEXT_MAX_BYTES)}}
    tail = (f"\n[{message.link}]({message.link})" if message.link else "") + (f"\n`{message.ref}`" if message.ref else "")
    head = f"**{_md_escape(message.subject)}**\n"
    # The link survives truncation: it is the part the reader needs to act.
    body_room = WECOM_MARKDOWN_MAX_BYTES - len(head.encode()) - len(tail.encode())
    content = head + truncate_utf8(message.text, max(body_room, 0)) + tail
    return {"msgtype": "markdown", "markdown": {"content": truncate_utf8(content, WECOM_MARKDOWN_MAX_BYTES)}}


def _md_escape(value: str) -> str:
    return value.replace("\n", " ").replace("*", "\\*").replace("#", "\\#")


def post_json(url: str, payload: dict, *, kind: str, temporary_errcodes: set[int]) -> dict:
    """POST `payload`; a 200 whose JSON carries errcode ≠ 0 is a failure like any other.

    Errors name the HTTP status and the robot's error code only: the answer's text is never
    repeated (an endpoint's answer is not ours to show).
    """
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    answer = outbound.post(url, body, kind=kind, timeout=HTTP_TIMEOUT)
    if answer.status >= 500 or answer.status == 429:
        raise TemporaryFailure(f"HTTP {answer.status}")
    if 300 <= answer.status < 400:
        raise PermanentFailure(f"HTTP {answer.status}: redirect not followed")
    if answer.status >= 400 or answer.status < 200:
        raise PermanentFailure(f"HTTP {answer.status}")
    try:
        parsed = json.loads(answer.body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise PermanentFailure(f"HTTP {answer.status}: the answer is not a robot's JSON") from None
    errcode = parsed.get("errcode", 0) if isinstance(parsed, dict) else None
    if errcode is None or not isinstance(errcode, int):
        raise PermanentFailure(f"HTTP {answer.status}: the answer carries no errcode")
    if errcode != 0:
        failure = TemporaryFailure if errcode in temporary_errcodes else PermanentFailure
        raise failure(f"errcode {errcode}")
    return parsed


def send_dingtalk(*, webhook_url: str, secret: str, message_format: str, message: Message) -> None:
    post_json(
        dingtalk_signed_url(webhook_url, secret),
        dingtalk_payload(message, message_format=message_format),
        kind="dingtalk",
        temporary_errcodes=DINGTALK_TEMPORARY_ERRCODES,
    )


def send_wecom(*, webhook_url: str, message_format: str, message: Message) -> None:
    post_json(
        webhook_url, wecom_payload(message, message_format=message_format),
        kind="wecom", temporary_errcodes=WECOM_TEMPORARY_ERRCODES,
    )


def email_html(message: Message) -> str:
    """The HTML part of an e-mail: the same text, its "- " lines as a list, the link clickable."""
    parts, items = [], []
    for line in message.text.splitlines():
        if line.startswith("- "):
            items.append(format_html("<li>{}</li>", line[2:]))
            continue
        if items:
            parts.append("<ul>" + "".join(items) + "</ul>")
            items = []
        if line.strip():
            parts.append(format_html("<p>{}</p>", line))
    if items:
        parts.append("<ul>" + "".join(items) + "</ul>")
    if message.link:
        parts.append(format_html('<p><a href="{}">{}</a></p>', message.link, message.link))
    if message.ref:
        parts.append(format_html('<p style="color:#5f6b7a">[{}]</p>', message.ref))
    return (f'<!doctype html><html><head><meta charset="utf-8"><title>{escape(message.subject)}</title></head>'
            f'<body style="font-family:sans-serif">{"".join(parts)}</body></html>')


def send_email(*, address: str, message: Message, message_id: str = "") -> None:
    """Send one e-mail. Failing to connect is a temporary failure (nothing went out); failing
    after the connection is up is an unknown outcome; a 5xx reply is permanent."""
    mail = EmailMultiAlternatives(message.subject, message.text + message.tail.replace("\n", "\n\n", 1), None, [address],
                                  headers={"Message-ID": message_id} if message_id else None)
    mail.attach_alternative(message.html or email_html(message), "text/html")
    mailer = get_connection(fail_silently=False)
    try:
        mailer.open()
    except (smtplib.SMTPException, OSError) as exc:
        raise TemporaryFailure(f"SMTP: not connected ({type(exc).__name__})") from exc
    try:
        mailer.send_messages([mail])
    except smtplib.SMTPRecipientsRefused as exc:
        raise PermanentFailure("SMTP refused the recipient") from exc
    except smtplib.SMTPResponseException as exc:
        # 4xx replies are "try later", 5xx are final (RFC 5321 §4.2.1); either way nothing was accepted.
        failure = PermanentFailure if exc.smtp_code >= 500 else TemporaryFailure
        raise failure(f"SMTP {exc.smtp_code}") from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise OutcomeUnknown(f"SMTP: no answer after sending ({type(exc).__name__})") from exc
    finally:
        mailer.close()
