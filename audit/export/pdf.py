"""record.pdf with WeasyPrint. The CJK font is the one shipped under static/fonts (named
explicitly: WeasyPrint's generic sans-serif has no Chinese on a bare machine). WeasyPrint
holds a whole document in memory, so a long record is cut into parts of at most
`SALESFLOW_RECORD_PDF_PAGE_CAP` pages (record.pdf, record-part-2.pdf, …), each saying so.
Parts are sized by the pages WeasyPrint lays out, not by an estimate, and checked against the cap."""
import logging
from collections.abc import Callable

import segno
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

logger = logging.getLogger(__name__)

STATIC_DIR = settings.BASE_DIR / "static"
# A first guess of entries per page, for the first part only: afterwards the parts are sized
# from the pages WeasyPrint really laid out, and every part is checked against the cap.
ENTRIES_PER_PAGE = 20
PROBES = 5  # layouts tried per part at most


def part_name(number: int) -> str:
    return "record.pdf" if number == 1 else f"record-part-{number}.pdf"


def _qr(checkpoint) -> str:
    return segno.make(f"{checkpoint.origin} {checkpoint.tree_size} {checkpoint.root_hash}", error="m").svg_data_uri(
        scale=3, border=2)


def _layout(html: str):
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    fonts = FontConfiguration()
    stylesheet = CSS(filename=str(STATIC_DIR / "audit" / "record.css"), font_config=fonts)
    return HTML(string=html, base_url=str(STATIC_DIR / "audit")).render(stylesheets=[stylesheet], font_config=fonts)


def split_by_pages(entries: list, cap: int, pages_of: Callable[[int, list], int]) -> list[list]:
    """Cut `entries` into consecutive parts each of which `pages_of(number, part)` lays out in at
    most `cap` pages. Each part's size is proposed from the density measured so far, then grown
    into free pages or shrunk out of extra ones by measurement (at most PROBES layouts a part);
    the largest size that fitted is kept. A single entry is never cut."""
    overhead = pages_of(1, [])  # a part without entries: summary, checkpoint, recipe
    room = max(1, cap - overhead + 1)  # pages entries can use (they share the overhead's last page)
    per_page = float(ENTRIES_PER_PAGE)
    parts, start, number = [], 0, 1
    while start < len(entries) or not parts:
        remaining = len(entries) - start
        fit, over = 0, remaining + 1
        count = max(1, min(remaining, int(per_page * room)))
        for _ in range(PROBES):
            pages = pages_of(number, entries[start:start + count])
            used = max(1, pages - overhead + 1)
            per_page = count / used
            if pages <= cap:
                fit = count
            else:
                over = count
            if fit and over <= remaining:  # bracketed: halve the gap
                proposal = (fit + over) // 2
            elif fit:  # fits: fill the free pages at the density seen
                proposal = count + max(1, int(per_page * (cap - pages)))
            else:  # too long: cut to the pages there are
                proposal = int(per_page * room)
            proposal = min(proposal, over - 1, remaining)
            if proposal <= fit or proposal >= over:
                break
            count = proposal
        if not fit:
            fit = 1
            logger.warning("interaction record part %d: one entry takes over the cap of %d pages", number, cap)
        parts.append(entries[start:start + fit])
        start, number = start + fit, number + 1
    return parts


def record_pdfs(*, export, checkpoint, entries, describer, summary, vkey: str, tenant_name: str) -> list[tuple[str, bytes]]:
    """record.pdf, and record-part-N.pdf when the entries need more than the page cap."""
    cap = settings.SALESFLOW_RECORD_PDF_PAGE_CAP
    qr = _qr(checkpoint)
    rows = {e.seq: {"entry": e, "actor": describer.actor(e), "action": describer.action(e),
                    "details": describer.details(e), "at": timezone.localtime(e.at)} for e in entries}

    def html(number: int, part: list, parts: int) -> str:
        last = number == parts
        return render_to_string("audit/record_pdf.html", {
            "export": export, "account": export.account, "checkpoint": checkpoint, "summary": summary,
            "rows": [rows[e.seq] for e in part], "qr": qr, "vkey": vkey, "tenant_name": tenant_name,
            "total_entries": len(entries), "part": number, "parts": parts,
            "part_names": [part_name(n) for n in range(1, parts + 1)], "next_part": None if last else part_name(number + 1),
            "cap": cap, "first_seq": part[0].seq if part else None, "last_seq": part[-1].seq if part else None,
            "generated_at": timezone.localtime(),
        })

    documents: dict[int, object] = {}

    def pages_of(number: int, part: list) -> int:
        # While measuring, a part says it is one of many (the notice at its top takes its room);
        # a record that fits in one part is laid out as it will be written.
        alone = number == 1 and len(part) == len(entries)
        document = _layout(html(number, part, 1 if alone else max(number + 1, 99)))
        if alone:
            documents[number] = document
        return len(document.pages)

    for attempt in range(3):
        parts = split_by_pages(entries, cap - attempt, pages_of)
        if len(parts) == 1 and 1 in documents:
            return [(part_name(1), documents[1].write_pdf())]
        out, over = [], False
        for number, part in enumerate(parts, start=1):
            document = _layout(html(number, part, len(parts)))
            over |= len(document.pages) > cap and len(part) > 1
            out.append((part_name(number), document.write_pdf()))
        if not over:
            return out
        documents.clear()
    logger.warning("interaction record parts still over the cap of %d pages", cap)
    return out
