"""The roster routing decides against: versioned by content, and indexed by pool.

`roster_current()` names the roster this process remembers (salesflow.org.selectors.rep_roster)
by the digest of its content and keeps, per routing basis (a rule's pool and the lead's wanted
region, product line, industry, on one day), the reps who qualify and those away. Intake asks
that index instead of looking at every rep for every lead; a roster change makes a new
digest and so a new index. `pool_select` is the one definition of who belongs to a pool: the
full evaluation (dry run), the index and the rebuilt routing story all use it.
"""
import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field, fields

from django.db import connection, transaction

from salesflow import i18n
from salesflow.org.selectors import RepProfile, rep_roster

from ..models import PoolSeat, RepLoad, RosterVersion, RoutingRule

INDEX_LIMIT = 4096  # pool indexes kept per process; all dropped past that (rebuilt on demand)
_indexes: dict[tuple[str, str, str], "PoolIndex"] = {}
_current: dict[str, tuple[list[RepProfile], "Roster"]] = {}
_versions: dict[tuple[str, str], list[RepProfile]] = {}


@dataclass
class Roster:
    digest: str
    reps: list[RepProfile]
    stored: bool = False  # set once the version row is committed


@dataclass
class PoolIndex:
    key: int  # the pool's rows in leads_poolseat (pool_key)
    day: dt.date
    available: list[RepProfile] = field(default_factory=list)  # by user id
    away: list[dict] = field(default_factory=list)  # stored candidates: skipped, away
    by_id: dict[int, RepProfile] = field(default_factory=dict)
    stored: bool = False  # set once its seats are committed (pool_seats_store)


def rule_basis(rule: RoutingRule, lead, *, today: dt.date, new_hire_days: int) -> dict:
    """What, besides the roster, decides who is in the rule's pool for this lead: small and storable."""
    return {
        "teams": sorted(t.pk for t in rule.pool_teams.all()),
        "regions": sorted(r.pk for r in rule.pool_regions.all()),
        "users": sorted(u.pk for u in rule.pool_users.all()),
        "region": lead.region if rule.match_lead_region else None,
        "product_line": lead.product_line if rule.match_lead_product_line else None,
        "industry": lead.industry if rule.match_lead_industry else None,
        "min_years": rule.min_years_experience,
        "new_hire_days": new_hire_days if rule.new_hires_only else None,
        "day": today.isoformat(),
    }


def pool_select(reps: list[RepProfile], basis: dict) -> list[RepProfile]:
    """The reps of `reps` in the pool `basis` describes, in the roster's (user id) order."""
    teams, regions, users = set(basis["teams"]), set(basis["regions"]), set(basis["users"])
    today = dt.date.fromisoformat(basis["day"])

    def belongs(rep: RepProfile) -> bool:
        if (teams or regions or users) and not (rep.team_id in teams or rep.user_id in users
                                                or rep.region_id in regions or rep.team_region_id in regions):
            return False
        if basis["region"] is not None and basis["region"] not in rep.region_names:
            return False
        if basis["product_line"] is not None and basis["product_line"] not in rep.product_lines:
            return False
        if basis["industry"] is not None and basis["industry"] not in rep.industries:
            return False
        if basis["min_years"] is not None and rep.years_experience < basis["min_years"]:
            return False
        if basis["new_hire_days"] is not None and not rep.is_new_hire(today=today, new_hire_days=basis["new_hire_days"]):
            return False
        return True

    return [rep for rep in reps if belongs(rep)]


def away_why(rep: RepProfile) -> dict:
    until = str(rep.away_until) if rep.away_until else i18n.nested(i18n.message("routing.why.open_end"))
    return i18n.message("routing.why.away", availability=i18n.typed("availability", rep.availability), until=until)


def roster_current() -> Roster:
    """The remembered roster with its digest: computed once per roster content this process sees.

    rep_roster() is reloaded every few seconds; a reload with the same content keeps the digest
    (and so the pool indexes) without recomputing it. Whether the version row exists is asked
    again once per reload (one INSERT … ON CONFLICT DO NOTHING): the row a rolled-back
    transaction wrote is gone, whatever this process remembers."""
    reps = rep_roster()
    known = _current.get(connection.schema_name)
    if known is not None and known[0] is reps:
        return known[1]
    digest = known[1].digest if known is not None and known[0] == reps else _digest(reps)
    roster = Roster(digest=digest, reps=reps)
    _current[connection.schema_name] = (reps, roster)
    return roster


def roster_store(roster: Roster) -> None:
    """Make sure the version row exists when the caller's transaction commits (one statement, until it has)."""
    if roster.stored:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {RosterVersion._meta.db_table} (digest, reps, created_at) VALUES (%s, %s, now()) "
            "ON CONFLICT (digest) DO NOTHING",
            [roster.digest, json.dumps(_payload(roster.reps))],
        )

    def committed():
        roster.stored = True

    transaction.on_commit(committed)


def pool_index(roster: Roster, basis: dict) -> PoolIndex:
    key = (connection.schema_name, roster.digest, json.dumps(basis, sort_keys=True))
    index = _indexes.get(key)
    if index is None:
        if len(_indexes) >= INDEX_LIMIT:
            _indexes.clear()
        today = dt.date.fromisoformat(basis["day"])
        index = PoolIndex(key=pool_key(roster.digest, basis), day=today)
        for rep in pool_select(roster.reps, basis):
            if rep.is_available_on(today):
                index.available.append(rep)
            else:
                index.away.append({"user_id": rep.user_id, "verdict": "skipped", "why": away_why(rep)})
        index.by_id = {rep.user_id: rep for rep in index.available}
        _indexes[key] = index
    return index


def pool_key(digest: str, basis: dict) -> int:
    text = f"{digest}|{json.dumps(basis, sort_keys=True)}"
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big", signed=True)


SEATS_KEPT_DAYS = 7


def pool_seats_store(index: PoolIndex, *, ranks, force: bool = False) -> None:
    """Write the pool's seats and make sure each of its reps has a load row with their capacity.

    Once per pool and process (until committed, or when `force`d because the seats were not
    found): one statement. Seats of pools made over a week ago go at the same time. A load row
    whose capacity copy differs from this roster version's is corrected (the only rows it locks:
    after a capacity change); `ranks()` gives the close rates for the rows it adds.
    """
    if index.stored and not force:
        return
    reps, rates = index.available, ranks()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""WITH gone AS (
                    DELETE FROM {PoolSeat._meta.db_table} WHERE made_on < %(day)s::date - %(kept)s
                ), seats AS (
                    INSERT INTO {PoolSeat._meta.db_table} (pool, user_id, made_on)
                    SELECT %(pool)s, u, %(day)s FROM unnest(%(ids)s::bigint[]) AS u ON CONFLICT DO NOTHING
                ), x AS (
                    SELECT * FROM unnest(%(ids)s::bigint[], %(caps)s::int[], %(ranks)s::float8[]) AS x(u, c, r)
                ), synced AS (
                    UPDATE {RepLoad._meta.db_table} l SET capacity = x.c FROM x WHERE l.user_id = x.u AND l.capacity <> x.c
                )
                INSERT INTO {RepLoad._meta.db_table} (user_id, open_count, capacity, rank)
                SELECT u, 0, c, r FROM x ON CONFLICT (user_id) DO NOTHING""",
            {"pool": index.key, "day": index.day, "kept": SEATS_KEPT_DAYS, "ids": [rep.user_id for rep in reps],
             "caps": [rep.capacity for rep in reps], "ranks": [rates.get(rep.user_id, 0.0) for rep in reps]},
        )

    def committed():
        index.stored = True

    transaction.on_commit(committed)


def version_reps(digest: str) -> list[RepProfile]:
    """The reps of a stored roster version (remembered: a version never changes)."""
    key = (connection.schema_name, digest)
    if key not in _versions:
        if len(_versions) >= 64:
            _versions.clear()
        _versions[key] = [_profile(row) for row in RosterVersion.objects.get(pk=digest).reps]
    return _versions[key]


def roster_forget_all() -> None:
    _indexes.clear()
    _current.clear()
    _versions.clear()


_FIELDS = [f.name for f in fields(RepProfile)]


def _payload(reps: list[RepProfile]) -> list[dict]:
    # As dataclasses.asdict would give, without its deep copies: profiles hold only flat values.
    return [{name: _plain(getattr(rep, name)) for name in _FIELDS} for rep in reps]


def _plain(value):
    if isinstance(value, dt.date):
        return value.isoformat()
    return list(value) if isinstance(value, tuple) else value


def _digest(reps: list[RepProfile]) -> str:
    text = json.dumps(_payload(reps), sort_keys=True, ensure_ascii=False)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _profile(row: dict) -> RepProfile:
    values = dict(row)
    for name in ("hire_date", "away_from", "away_until"):
        values[name] = dt.date.fromisoformat(values[name]) if values[name] else None
    for name in ("region_names", "industries", "product_lines"):
        values[name] = tuple(values[name])
    return RepProfile(**values)
