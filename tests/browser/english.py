"""Finding English sentences in the visible text of a page meant to be read in Chinese.

The rule: a run of at least two consecutive Latin-script words (each of two letters or
more, separated only by spaces or light punctuation) in which at least one word is a
common English word (`COMMON`). Single words (a code, "CSV", "OK") and runs made only of
names are not sentences. Before looking, the page text loses what is data or a brand name:
`ALLOWED` words and phrases, the crawled tenant's own data strings (user names, rule
names…), e-mail addresses, URLs, host names, identifiers with "_" or "." and time-zone names.
"""
import re

# Words that make a run of Latin words an English phrase rather than a name.
COMMON = frozenset("""
a about above add added after again all also an and any are as at back be been before below by can cancel
change changed changes choose clear close closed create created date day days delete deleted detail details
do does done download edit email enter error every failed field fields filter find first for from go group
groups has have history home if in into is it items last later leave list log login logout more must my
name new next no none not nothing now of off on one only open or other out page password per please
previous read record records remove required reset results save saved search see select send sent set show
sign since so some start status submit that the them there these this time to today too total try under
until up update updated use user users using view was we what when where which who why will with yes yet
you your minute minutes hour hours week weeks month months year years lead leads rep reps team teams manager
managers owner pool claim claimed accept accepted assigned reason rule rules score stage stages alert alerts
inbox board today customer customers opportunity opportunities contact contacts visit call meeting follow
followup follow-up follow-ups routing log entries entry unknown action actions recent report reports
""".split())

# Brands, formats and protocol names shown as they are in every language.
ALLOWED = (
    "SalesFlow", "DingTalk", "WeCom", "WeChat", "CSV", "API", "PDF", "JSON", "JSONL", "URL", "HTTP", "HTTPS",
    "SMTP", "Markdown", "OpenAPI", "Django", "Ed25519", "Merkle", "SEC", "UTF-8", "GBK", "GB18030", "UTF-16",
    "Excel", "E.164", "htmx", "ID", "OK", "CRM", "SaaS", "POC", "CIO", "KPI", "ERP", "B2B",
)

_EMAIL = re.compile(r"\S+@\S+")
_URL = re.compile(r"\b(?:https?://|//)\S+|\b[\w-]+(?:\.[\w-]+)+(?::\d+)?(?:/\S*)?")
_IDENT = re.compile(r"\b\w*[_.]\w+\b")
_ZONE = re.compile(r"\b[A-Z][a-z]+/[A-Z][A-Za-z_]+\b")
_WORD = r"[A-Za-z][A-Za-z'’-]*[A-Za-z]"
_RUN = re.compile(rf"{_WORD}(?:[ \t]*[,:;()/&+-]?[ \t]+{_WORD}|[ \t]*[,:;()/&+-][ \t]*{_WORD})+")


def scrub(text: str, data: list[str] = ()) -> str:
    """The text without data strings, brands and machine-looking tokens."""
    for value in sorted({d for d in data if d and len(d) > 1}, key=len, reverse=True):
        text = text.replace(value, " ")
    text = _EMAIL.sub(" ", text)
    text = _URL.sub(" ", text)
    text = _IDENT.sub(" ", text)
    text = _ZONE.sub(" ", text)
    for word in ALLOWED:
        text = re.sub(rf"(?<![A-Za-z]){re.escape(word)}(?![A-Za-z])", " ", text)
    return text


def english_phrases(text: str, data: list[str] = ()) -> list[str]:
    """Every English-looking phrase left in `text` once data and brands are taken out."""
    found = []
    for line in scrub(text, data).splitlines():
        for run in _RUN.finditer(line):
            words = re.findall(_WORD, run.group())
            if len(words) >= 2 and any(w.lower() in COMMON for w in words):
                found.append(run.group().strip())
    return found
