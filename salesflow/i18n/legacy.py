"""Turning the English sentences stored before messages existed back into messages.

Used once by data migrations. Each function returns a stored message, or None when the
text is not one we wrote (a hand-edited row, an unknown shape): those rows keep their
sentence as the fallback. Pure functions on text, so migrations can use them safely.
"""
import datetime as dt
import re
import zoneinfo

QUOTED = "“(?P<pool>.+?)”"


def _msg(key: str, **params) -> dict:
    return {"key": key, "params": params}


def _nested(msg):
    return {"$": "msg", "v": msg}


def _hours(value: str) -> dict:
    return {"$": "seconds", "v": int(value) * 3600}


def _when(text: str, tz: zoneinfo.ZoneInfo):
    """A "YYYY-MM-DD HH:MM" shown in the tenant's zone, back as an instant (else the text as data)."""
    try:
        value = dt.datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=tz)
    except ValueError:
        return text
    return {"$": "at", "v": value.isoformat()}


def _wanted(text: str):
    if text == "the rule":
        return _nested(_msg("routing.want.rule"))
    items = []
    for part in text.split(", "):
        if m := re.fullmatch(r"(region|product line|industry) (.*)", part):
            kind = m[1].replace(" ", "_")
            items.append(_nested(_msg(f"routing.want.{kind}", value={"$": "vocab", "v": [kind, "" if m[2] == "—" else m[2]]})))
        elif m := re.fullmatch(r"≥ (\d+) years' experience", part):
            items.append(_nested(_msg("routing.want.years", years=int(m[1]))))
        elif part == "new hires":
            items.append(_nested(_msg("routing.want.new_hires")))
        else:
            return None
    return {"$": "list", "v": items}


def routing_reason(text: str) -> dict | None:
    """A routing reason or candidate verdict reason as routing and the pool wrote them."""
    text = (text or "").strip()
    if not text:
        return None
    whole = _routing_reason_whole(text)
    if whole is not None or " → " not in text:
        return whole
    head, _, rep = text.rpartition(" → ")
    inner = routing_reason(head)
    return _msg("routing.assigned_to", reason=_nested(inner), rep=rep) if inner else None


def _routing_reason_whole(text: str) -> dict | None:
    if text.endswith("; everyone filled up while routing: public pool"):
        inner = routing_reason(text.removesuffix("; everyone filled up while routing: public pool"))
        return _msg("routing.filled_up", reason=_nested(inner)) if inner else None
    simple = {
        "no routing rule matched: public pool": "routing.no_rule",
        "reached capacity while routing": "routing.why.filled",
        "another rep came first by the strategy": "routing.why.other_first",
    }
    if text in simple:
        return _msg(simple[text])
    if m := re.fullmatch(r"rule “(.+)” sends leads to the public pool", text):
        return _msg("routing.rule_to_pool", rule=m[1])
    if m := re.fullmatch(rf"pool {QUOTED} has no rep matching (?P<wanted>.+): public pool", text):
        wanted = _wanted(m["wanted"])
        return _msg("routing.no_match", pool=m["pool"], wanted=wanted) if wanted else None
    if m := re.fullmatch(rf"nobody in pool {QUOTED} is available with free capacity: public pool", text):
        return _msg("routing.nobody_free", pool=m["pool"])
    if m := re.fullmatch(rf"round robin in {QUOTED}: next in turn", text):
        return _msg("routing.round_robin", pool=m["pool"])
    if m := re.fullmatch(rf"least loaded in {QUOTED}", text):
        return _msg("routing.least_loaded", pool=m["pool"])
    if m := re.fullmatch(rf"top performer in {QUOTED}: 7-day close rate (?P<rate>\S+) > (?P<threshold>\S+)", text):
        return _msg("routing.top", pool=m["pool"], rate=m["rate"], threshold=m["threshold"])
    if m := re.fullmatch(
        rf"top performer in {QUOTED}: nobody above (?P<threshold>\S+), best rate available \((?P<rate>\S+)\)", text
    ):
        return _msg("routing.top_fallback", pool=m["pool"], rate=m["rate"], threshold=m["threshold"])
    if m := re.fullmatch(r"released: no follow-up within (\d+) h of the claim", text):
        return _msg("routing.released", duration=_hours(m[1]))
    if m := re.fullmatch(r"reassigned by (\S+): (.*)", text, re.S):
        return _msg("routing.reassigned", actor=m[1], reason=m[2])
    if m := re.fullmatch(r"claimed from the public pool by (.+)", text):
        return _msg("routing.claimed", actor=m[1])
    if m := re.fullmatch(r"away \((\w+)\) until (.+)", text):
        until = _nested(_msg("routing.why.open_end")) if m[2] == "open end" else m[2]
        return _msg("routing.why.away", availability={"$": "availability", "v": m[1]}, until=until)
    if m := re.fullmatch(r"at capacity \((\d+)/(\d+)\)", text):
        return _msg("routing.why.capacity", open=int(m[1]), capacity=int(m[2]))
    if m := re.fullmatch(r"cooling (\d+) h", text):
        return _msg("routing.why.cooling", duration=_hours(m[1]))
    return None


def pool_release_reason(text: str) -> dict:
    """Why a pool claim was released, as the pool scan wrote it ("no follow-up within 48 h");
    any other text is kept as data, read the same in every language."""
    text = (text or "").strip()
    if not text:
        return {}
    if m := re.fullmatch(r"no follow-up within (\d+) h", text):
        return _msg("routing.released", duration=_hours(m[1]))
    return _msg("text.verbatim", text=text)


def notification(title: str, body: str, *, tz: zoneinfo.ZoneInfo, stage_codes: dict[str, str]) -> dict | None:
    """{"title": …, "body": …} for an alert or lead notification as written before messages, else None."""
    title_msg = _title(title, stage_codes)
    if title_msg is None:
        return None
    body_msg = _body(body or "", tz, is_assignment=title_msg["key"] == "lead.assigned.title")
    if body and body_msg is None:
        return None
    return {"title": title_msg, "body": body_msg or {}}


def _title(title: str, stage_codes: dict[str, str]) -> dict | None:
    if m := re.fullmatch(r"No update for (\d+) h: (.+)", title, re.S):
        return _msg("sla.golden.title", duration=_hours(m[1]), opp=m[2])
    if m := re.fullmatch(r"Red: (.+) is more than late", title, re.S):
        return _msg("sla.red.title", opp=m[1])
    if m := re.fullmatch(r"Stagnant in (.+?): (.+)", title, re.S):
        code = stage_codes.get(m[1])
        stage = {"$": "stage", "v": code} if code else m[1]
        return _msg("sla.stagnant.title", stage=stage, opp=m[2])
    if m := re.fullmatch(r"Reminder due: (.+)", title, re.S):
        return _msg("sla.reminder.title", opp=m[1])
    if m := re.fullmatch(r"High-value lead not touched within (\d+) h: (.+)", title, re.S):
        return _msg("sla.first_touch.title", duration=_hours(m[1]), name=m[2])
    if m := re.fullmatch(r"新线索 New lead: (.+)", title, re.S):
        return _msg("lead.assigned.title", name=m[1])
    if m := re.fullmatch(r"线索再次提交 Lead submitted again: (.+)", title, re.S):
        return _msg("lead.resubmitted.title", name=m[1])
    return None


WHEN = r"(\d{4}-\d\d-\d\d \d\d:\d\d)"


def _body(body: str, tz, *, is_assignment: bool) -> dict | None:
    if not body:
        return {}
    if m := re.fullmatch(rf"(.+) · the next touch was due {WHEN}\.", body, re.S):
        return _msg("sla.red.body", account=m[1], when=_when(m[2], tz))
    if m := re.fullmatch(rf"(.+) · no movement and no update since {WHEN}\.", body, re.S):
        return _msg("sla.stagnant.body", account=m[1], when=_when(m[2], tz))
    if m := re.fullmatch(rf"(.+) · a stage reminder fell due at {WHEN}\.", body, re.S):
        return _msg("sla.reminder.body", account=m[1], when=_when(m[2], tz))
    if m := re.fullmatch(rf"Assigned {WHEN}; every hour of silence costs the deal\.", body):
        return _msg("sla.first_touch.body", when=_when(m[1], tz))
    if m := re.fullmatch(rf"(.+) · last update {WHEN}\. Last follow-ups:\n(.*)", body, re.S):
        lines = []
        for line in m[3].split("\n"):
            if line == "No follow-up logged yet.":
                lines.append(_nested(_msg("sla.golden.none")))
            elif found := re.fullmatch(r"(\d\d-\d\d \d\d:\d\d) \[(\w+)\] (.*)", line, re.S):
                lines.append(_nested(_msg("sla.golden.line", when=found[1], kind={"$": "followup_kind", "v": found[2]},
                                          summary=found[3])))
            else:
                return None
        return _msg("sla.golden.body", account=m[1], when=_when(m[2], tz), lines={"$": "lines", "v": lines})
    if is_assignment:
        parts = body.split("\n")
        reason = routing_reason(parts[-1])
        if reason is None:
            return None
        details = [
            _nested(_msg("lead.grade", grade=g[1])) if (g := re.fullmatch(r"(\w) 级 / grade \w", part)) else part
            for part in parts[:-1]
        ]
        return _msg("lead.assigned.body", details={"$": "list", "v": details}, reason=_nested(reason))
    if m := re.fullmatch(r"(.*) · (\w+)", body, re.S):  # a resubmission: contact · channel code
        return _msg("lead.resubmitted.body", contact=m[1], channel={"$": "vocab", "v": ["channel", m[2]]})
    return None
