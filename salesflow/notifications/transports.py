"""Sending one message through one outside channel.

Every transport answers the same way: it returns on success, raises `TemporaryFailure`
for what a later attempt may fix (network down, 5xx, the robot's rate limit) and
`PermanentFailure` for what it will not (a bad token, a rejected signature, 4xx).
"""
import base64
import hashlib
import hmac
import json
import smtplib
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from django.core.mail import send_mail

HTTP_TIMEOUT = 5.0
WECOM_MARKDOWN_MAX_BYTES = 4096
WECOM_TEXT_MAX_BYTES = 2048
DINGTALK_MAX_BYTES = 20000
# Robot error codes that mean "slow down / try again", not "you are misconfigured".
DINGTALK_TEMPORARY_ERRCODES = {-1, 130101, 410100}
WECOM_TEMPORARY_ERRCODES = {-1, 45009, 45033}


class TemporaryFailure(Exception):
    pass


class PermanentFailure(Exception):
    pass


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    link: str = ""


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
        content = message.subject + "\n" + message.text + (f"\n{message.link}" if message.link else "")
        return {"msgtype": "text", "text": {"content": truncate_utf8(content, DINGTALK_MAX_BYTES)}}
    text = f"### {_md_escape(message.subject)}\n\n{message.text}"
    if message.link:
        text += f"\n\n[{message.link}]({message.link})"
    return {"msgtype": "markdown", "markdown": {"title": message.subject[:64], "text": truncate_utf8(text, DINGTALK_MAX_BYTES)}}


def wecom_payload(message: Message, *, message_format: str) -> dict:
    if message_format == "text":
        content = message.subject + "\n" + message.text + (f"\n{message.link}" if message.link else "")
        return {"msgtype": "text", "text": {"content": truncate_utf8(content, WECOM_TEXT_MAX_BYTES)}}
    tail = f"\n[{message.link}]({message.link})" if message.link else ""
    head = f"**{_md_escape(message.subject)}**\n"
    # The link survives truncation: it is the part the reader needs to act.
    body_room = WECOM_MARKDOWN_MAX_BYTES - len(head.encode()) - len(tail.encode())
    content = head + truncate_utf8(message.text, max(body_room, 0)) + tail
    return {"msgtype": "markdown", "markdown": {"content": truncate_utf8(content, WECOM_MARKDOWN_MAX_BYTES)}}


def _md_escape(value: str) -> str:
    return value.replace("\n", " ").replace("*", "\\*").replace("#", "\\#")


def post_json(url: str, payload: dict, *, temporary_errcodes: set[int]) -> dict:
    """POST `payload`; a 200 whose JSON carries errcode ≠ 0 is a failure like any other."""
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/json; charset=utf-8"})
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as response:
            raw = response.read(65536)
    except urllib.error.HTTPError as exc:
        if exc.code >= 500 or exc.code == 429:
            raise TemporaryFailure(f"HTTP {exc.code}") from exc
        raise PermanentFailure(f"HTTP {exc.code}") from exc
    except (urllib.error.URLError, socket.timeout, TimeoutError, ConnectionError) as exc:
        raise TemporaryFailure(f"network: {getattr(exc, 'reason', exc)}") from exc
    try:
        answer = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TemporaryFailure(f"unreadable answer: {raw[:200]!r}") from exc
    errcode = answer.get("errcode", 0) if isinstance(answer, dict) else None
    if errcode is None or not isinstance(errcode, int):
        raise PermanentFailure(f"unexpected answer: {raw[:200]!r}")
    if errcode != 0:
        failure = TemporaryFailure if errcode in temporary_errcodes else PermanentFailure
        raise failure(f"errcode {errcode}: {answer.get('errmsg', '')}")
    return answer


def send_dingtalk(*, webhook_url: str, secret: str, message_format: str, message: Message) -> None:
    post_json(
        dingtalk_signed_url(webhook_url, secret),
        dingtalk_payload(message, message_format=message_format),
        temporary_errcodes=DINGTALK_TEMPORARY_ERRCODES,
    )


def send_wecom(*, webhook_url: str, message_format: str, message: Message) -> None:
    post_json(webhook_url, wecom_payload(message, message_format=message_format), temporary_errcodes=WECOM_TEMPORARY_ERRCODES)


def send_email(*, address: str, message: Message) -> None:
    text = message.text + (f"\n\n{message.link}" if message.link else "")
    try:
        send_mail(message.subject, text, None, [address], fail_silently=False)
    except smtplib.SMTPRecipientsRefused as exc:
        raise PermanentFailure(f"SMTP refused the recipient: {exc}") from exc
    except smtplib.SMTPResponseException as exc:
        # 4xx replies are "try later", 5xx are final (RFC 5321 §4.2.1).
        failure = PermanentFailure if exc.smtp_code >= 500 else TemporaryFailure
        raise failure(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}") from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise TemporaryFailure(f"SMTP: {exc}") from exc
