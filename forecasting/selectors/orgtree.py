"""The organisation as a tree of target nodes — company → regions (and sub-regions) → teams → reps —
and which of its nodes a user may see and edit.

Seeing follows `salesflow.org.scoping`: an admin sees the company; a manager the regions
they direct and the teams they manage (each with everything below); a rep their own node.
Editing is one level down from what a manager answers for: a regional director sets the
targets of their regions' sub-regions, teams and reps, a team manager those of their reps;
admins edit every node, the company included.
"""
from dataclasses import dataclass, field

from salesflow.org.models import Member, Region, Role, Team
from salesflow.org.scoping import member_for

from ..models_targets import TargetLevel


@dataclass(eq=False)
class OrgNode:
    level: str
    key: int | None  # region id, team id, user id; None for the company
    name: str
    parent: "OrgNode | None" = None
    children: list["OrgNode"] = field(default_factory=list)
    # Users whose won deals count here directly (not through a child node).
    own_user_ids: set[int] = field(default_factory=set)
    region_id: int | None = None  # the region a team or rep sits in (for edit rights)
    team_id: int | None = None  # a rep's team
    head_id: int | None = None  # a region's director, a team's manager

    @property
    def ident(self) -> tuple[str, int | None]:
        return (self.level, self.key)

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()

    def user_ids(self) -> set[int]:
        found = set()
        for node in self.walk():
            found |= node.own_user_ids
        return found

    def add(self, child: "OrgNode") -> None:
        child.parent = self
        self.children.append(child)


@dataclass
class OrgTree:
    company: OrgNode
    by_ident: dict[tuple[str, int | None], OrgNode]

    def get(self, level: str, key: int | None) -> OrgNode | None:
        return self.by_ident.get((level, key))


def org_tree(*, company_name: str) -> OrgTree:
    """The whole tenant's tree, in four queries."""
    company = OrgNode(TargetLevel.COMPANY, None, company_name)
    regions = {r.pk: OrgNode(TargetLevel.REGION, r.pk, r.name, region_id=r.parent_id, head_id=r.director_id)
               for r in Region.objects.order_by("name")}
    for region_id, node in regions.items():
        (regions.get(node.region_id) or company).add(node)
    teams = {}
    for team in Team.objects.order_by("name"):
        node = OrgNode(TargetLevel.TEAM, team.pk, team.name, region_id=team.region_id, head_id=team.manager_id)
        teams[team.pk] = node
        regions[team.region_id].add(node)
    reps = {}
    for member in Member.objects.order_by("full_name").only("user_id", "full_name", "role", "team_id", "region_id"):
        home = teams.get(member.team_id) or regions.get(member.region_id) or company
        if member.role == Role.REP:
            node = OrgNode(TargetLevel.REP, member.user_id, member.full_name, region_id=member.region_id,
                           team_id=member.team_id, own_user_ids={member.user_id})
            reps[member.user_id] = node
            home.add(node)
        else:  # a manager's own deals count for the unit they sit in
            home.own_user_ids.add(member.user_id)
    by_ident = {n.ident: n for n in company.walk()}
    return OrgTree(company=company, by_ident=by_ident)


@dataclass(frozen=True)
class Reach:
    """What one user may see and edit in the tree."""

    is_admin: bool
    roots: tuple[OrgNode, ...]
    directed_regions: frozenset[int]
    managed_teams: frozenset[int]

    def can_see(self, node: OrgNode) -> bool:
        ancestor = node
        while ancestor is not None:
            if ancestor in self.roots:
                return True
            ancestor = ancestor.parent
        return False

    def can_edit(self, node: OrgNode) -> bool:
        if self.is_admin:
            return True
        if node.level == TargetLevel.COMPANY:
            return False
        if node.level == TargetLevel.REGION:
            return node.region_id in self.directed_regions  # its parent region is directed
        if node.level == TargetLevel.TEAM:
            return node.region_id in self.directed_regions
        if node.team_id is not None:
            return node.team_id in self.managed_teams
        return node.region_id in self.directed_regions


def reach_for(user, tree: OrgTree, *, role: str | None = None) -> Reach:
    """What `user` reaches in `tree`, from the tree alone (no query when `role` is given): the
    same rule as `salesflow.org.scoping` — regions directed with their sub-regions, teams
    managed or inside those regions."""
    if role is None:
        member = member_for(user)
        role = member.role if member is not None else None
    if role is None:
        return Reach(False, (), frozenset(), frozenset())
    if role == Role.ADMIN:
        return Reach(True, (tree.company,), frozenset(), frozenset())
    if role == Role.REP:
        own = tree.get(TargetLevel.REP, user.pk)
        return Reach(False, (own,) if own else (), frozenset(), frozenset())
    nodes = list(tree.company.walk())
    directed = set()
    for node in nodes:  # walk order visits parents first: a sub-region follows its region
        if node.level == TargetLevel.REGION and (node.head_id == user.pk or node.region_id in directed):
            directed.add(node.key)
    managed = {n.key for n in nodes if n.level == TargetLevel.TEAM and (n.head_id == user.pk or n.region_id in directed)}
    roots = []
    for node in nodes:
        if node.level == TargetLevel.REGION and node.key in directed and node.region_id not in directed:
            roots.append(node)
        elif node.level == TargetLevel.TEAM and node.key in managed and node.region_id not in directed:
            roots.append(node)
    return Reach(False, tuple(roots), frozenset(directed), frozenset(managed))
