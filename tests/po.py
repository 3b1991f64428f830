"""A small reader of gettext .po files: enough to check a catalogue, no extra dependency."""
import ast
from dataclasses import dataclass, field


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    references: list[str] = field(default_factory=list)
    obsolete: bool = False

    @property
    def translated(self) -> bool:
        return bool(self.msgstr) and all(self.msgstr.values())

    @property
    def fuzzy(self) -> bool:
        return "fuzzy" in self.flags


def read(path) -> list[Entry]:
    entries, entry, target = [], Entry(), None

    def finish():
        nonlocal entry
        if entry.msgid or entry.msgstr:
            entries.append(entry)
        entry = Entry()

    for raw in open(path, encoding="utf-8"):
        line = raw.strip()
        if not line:
            finish()
            target = None
            continue
        if line.startswith("#~"):
            entry.obsolete = True
            continue
        if line.startswith("#,"):
            entry.flags.update(flag.strip() for flag in line[2:].split(","))
            continue
        if line.startswith("#:"):
            entry.references.extend(line[2:].split())
            continue
        if line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        if keyword.startswith('"'):
            value, rest = ast.literal_eval(line), None
        else:
            value = ast.literal_eval(rest)
            if keyword in ("msgid", "msgid_plural", "msgctxt"):
                target = keyword
            elif keyword == "msgstr":
                target = 0
            elif keyword.startswith("msgstr["):
                target = int(keyword[7:-1])
        if isinstance(target, int):
            entry.msgstr[target] = entry.msgstr.get(target, "") + value
        elif target is not None:
            setattr(entry, target, (getattr(entry, target) or "") + value)
    finish()
    return [e for e in entries if e.msgid and not e.obsolete]
