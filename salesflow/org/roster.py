"""Roster import: validate every row first, then write all of it in one transaction."""
import datetime as dt
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from audit.services import audit_record
from salesflow.inputs import text_problem

from salesflow.csvtext import CsvText, csv_delimiter

from .models import Member, Region, Role, Team
from .selectors import rep_roster_forget
from .vocabularies import vocabulary_ensure

COLUMNS = [
    "username", "email", "full_name", "role", "region", "team", "manager_username",
    "industries", "product_lines", "years_experience", "hire_date", "capacity",
]
REQUIRED = ("username", "email", "full_name", "role")
DEFAULT_CAPACITY = 50


@dataclass
class RosterRow:
    line: int
    username: str
    email: str
    full_name: str
    role: str
    region: str
    team: str
    manager_username: str
    industries: list[str]
    product_lines: list[str]
    years_experience: int
    hire_date: dt.date | None
    capacity: int


@dataclass
class RosterResult:
    created: int = 0
    updated: int = 0
    errors: list[str] = field(default_factory=list)
    encoding: str = ""

    @property
    def ok(self) -> bool:
        return not self.errors


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(";") if part.strip()]


def _limits() -> dict[str, int]:
    """The longest value each column's database field holds (items, for the `;` lists)."""
    user_field = get_user_model()._meta.get_field
    return {
        "username": user_field("username").max_length, "manager_username": user_field("username").max_length,
        "email": user_field("email").max_length, "full_name": Member._meta.get_field("full_name").max_length,
        "region": Region._meta.get_field("name").max_length, "team": Team._meta.get_field("name").max_length,
        "industries": Member._meta.get_field("industries").base_field.max_length,
        "product_lines": Member._meta.get_field("product_lines").base_field.max_length,
    }


def _text_problems(line: int, values: dict[str, str]) -> list[str]:
    problems = []
    for name, limit in _limits().items():
        problem = text_problem(values[name])
        parts = _split(values[name]) if name in ("industries", "product_lines") else [values[name]]
        if problem:
            problems.append(f"line {line}: {name}: {problem}")
        elif any(len(part) > limit for part in parts):
            problems.append(f"line {line}: {name} is longer than {limit} characters")
    return problems


def _parse_row(line: int, raw: dict[str, str]) -> tuple[RosterRow | None, list[str]]:
    values = {name: str(raw.get(name) or "").strip() for name in COLUMNS}
    problems = [f"line {line}: {name} is required" for name in REQUIRED if not values[name]]
    problems += _text_problems(line, values)
    if values["role"] and values["role"] not in Role.values:
        problems.append(f"line {line}: role {values['role']!r} must be one of admin, manager, rep, finance")
    if values["email"]:
        try:
            validate_email(values["email"])
        except ValidationError:
            problems.append(f"line {line}: email {values['email']!r} is not a valid address")
    if values["team"] and not values["region"]:
        problems.append(f"line {line}: team {values['team']!r} needs a region")
    numbers = {}
    for name, default in (("years_experience", 0), ("capacity", DEFAULT_CAPACITY)):
        text = values[name]
        if not text:
            numbers[name] = default
        elif text.isdigit():
            numbers[name] = int(text)
        else:
            problems.append(f"line {line}: {name} {text!r} must be a whole number ≥ 0")
    hire_date = None
    if values["hire_date"]:
        try:
            hire_date = dt.date.fromisoformat(values["hire_date"])
        except ValueError:
            problems.append(f"line {line}: hire_date {values['hire_date']!r} must be a date like 2024-03-01")
    if problems:
        return None, problems
    return RosterRow(
        line=line,
        username=values["username"],
        email=values["email"].lower(),
        full_name=values["full_name"],
        role=values["role"],
        region=values["region"],
        team=values["team"],
        manager_username=values["manager_username"],
        industries=_split(values["industries"]),
        product_lines=_split(values["product_lines"]),
        years_experience=numbers["years_experience"],
        hire_date=hire_date,
        capacity=numbers["capacity"],
    ), []


def _cross_check(rows: list[RosterRow]) -> list[str]:
    problems = []
    seen: dict[str, int] = {}
    for row in rows:
        if row.username in seen:
            problems.append(f"line {row.line}: username {row.username!r} already appears on line {seen[row.username]}")
        seen[row.username] = row.line
    existing = set(get_user_model().objects.filter(
        username__in=[r.manager_username for r in rows if r.manager_username]
    ).values_list("username", flat=True))
    for row in rows:
        if not row.manager_username:
            continue
        if row.manager_username == row.username:
            problems.append(f"line {row.line}: {row.username!r} cannot be their own manager")
        elif row.manager_username not in seen and row.manager_username not in existing:
            problems.append(f"line {row.line}: manager_username {row.manager_username!r} is neither in the file nor an existing user")
    team_managers: dict[str, set[str]] = {}
    for row in rows:
        if row.role == Role.REP and row.team and row.manager_username:
            team_managers.setdefault(row.team, set()).add(row.manager_username)
    for team, managers in team_managers.items():
        if len(managers) > 1:
            problems.append(f"team {team!r}: its reps report to different managers ({', '.join(sorted(managers))})")
    return problems


def roster_parse(text: str) -> tuple[list[RosterRow], list[str]]:
    text = text.lstrip("\ufeff")
    reader = CsvText(text=text, encoding="", delimiter=csv_delimiter(text)).dict_reader()
    header = [name.strip() for name in (reader.fieldnames or [])]
    missing = [name for name in COLUMNS if name not in header]
    if missing:
        return [], [f"line 1: header lacks column(s) {', '.join(missing)}; expected {','.join(COLUMNS)}"]
    reader.fieldnames = header
    rows, problems = [], []
    for raw in reader:
        if not any((value or "").strip() for value in raw.values()):
            continue
        row, row_problems = _parse_row(reader.line_num, raw)
        problems.extend(row_problems)
        if row:
            rows.append(row)
    if not rows and not problems:
        problems.append("the file holds no rows")
    return rows, problems + (_cross_check(rows) if not problems else [])


def _upsert_member(row: RosterRow, regions: dict[str, Region], teams: dict[str, Team]) -> tuple[Member, bool]:
    User = get_user_model()
    user, created = User.objects.get_or_create(username=row.username, defaults={"email": row.email})
    if created:
        user.set_unusable_password()
    user.email = row.email
    user.is_staff = row.role == Role.ADMIN
    user.is_superuser = row.role == Role.ADMIN
    user.save()
    member, _ = Member.objects.update_or_create(
        user=user,
        defaults={
            "full_name": row.full_name,
            "role": row.role,
            "region": regions.get(row.region),
            "team": teams.get(row.team),
            "industries": row.industries,
            "product_lines": row.product_lines,
            "years_experience": row.years_experience,
            "hire_date": row.hire_date,
            "capacity": row.capacity,
        },
    )
    return member, created


def _assign_managers(rows: list[RosterRow], teams: dict[str, Team], regions: dict[str, Region]):
    User = get_user_model()
    users = {u.username: u for u in User.objects.filter(username__in={r.manager_username for r in rows} | {r.username for r in rows})}
    for row in rows:
        team = teams.get(row.team)
        if row.role == Role.REP and team and row.manager_username:
            team.manager = users[row.manager_username]
        elif row.role == Role.MANAGER and team and team.manager_id is None:
            team.manager = users[row.username]
        if row.role == Role.MANAGER and row.manager_username and row.region:
            regions[row.region].director = users[row.manager_username]
    for team in teams.values():
        team.save(update_fields=["manager"])
    for region in regions.values():
        region.save(update_fields=["director"])


def _vocabularies_apply(rows: list[RosterRow], *, actor, source: str) -> None:
    """Regions, industries and product lines of the roster in their canonical spelling; those the
    tenant's lists do not know yet are added to them."""
    reason = f"roster import ({source})"
    regions = vocabulary_ensure(actor=actor, kind="region", values=[r.region for r in rows], reason=reason)
    industries = vocabulary_ensure(actor=actor, kind="industry", values=[v for r in rows for v in r.industries], reason=reason)
    products = vocabulary_ensure(actor=actor, kind="product_line", values=[v for r in rows for v in r.product_lines], reason=reason)
    for row in rows:
        row.region = regions.get(row.region, row.region)
        row.industries = list(dict.fromkeys(industries.get(v, v) for v in row.industries))
        row.product_lines = list(dict.fromkeys(products.get(v, v) for v in row.product_lines))


def roster_import(*, actor, text: str, source: str = "upload", encoding: str = "") -> RosterResult:
    """Import the roster CSV; on any bad row nothing is written and every problem is returned."""
    rows, problems = roster_parse(text)
    if problems:
        return RosterResult(errors=problems, encoding=encoding)
    result = RosterResult(encoding=encoding)
    with transaction.atomic():
        _vocabularies_apply(rows, actor=actor, source=source)
        regions = {name: Region.objects.get_or_create(name=name)[0] for name in {r.region for r in rows if r.region}}
        teams = {}
        for row in rows:
            if row.team and row.team not in teams:
                team, _ = Team.objects.get_or_create(name=row.team, defaults={"region": regions[row.region]})
                if team.region_id != regions[row.region].pk:
                    team.region = regions[row.region]
                    team.save(update_fields=["region"])
                teams[row.team] = team
        for row in rows:
            member, created = _upsert_member(row, regions, teams)
            result.created += created
            result.updated += not created
        _assign_managers(rows, teams, regions)
        transaction.on_commit(rep_roster_forget)
        audit_record(
            actor=actor,
            verb="roster.imported",
            target_type="org.member",
            payload={
                "source": source,
                "created": result.created,
                "updated": result.updated,
                "usernames": sorted(r.username for r in rows),
            },
        )
    return result
