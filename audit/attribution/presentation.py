"""What the page shows for each trait, in the reader's language, and the seed-style headline."""
from dataclasses import dataclass, replace

from django.utils.translation import gettext as _

from followups.models import ActionKey, ActionTemplate, ContactRole, FollowUpKind
from salesflow.org.vocabularies import vocabulary_label

from .selectors import (
    ACTION,
    ANY_KEY_PERSON,
    CHANNEL,
    COMBINATION,
    COVERAGE,
    COVERAGE_ALL,
    COVERAGE_NO_CHAIN,
    COVERAGE_NONE,
    COVERAGE_SOME,
    FIRST_TOUCH,
    ROLE,
    TEMPLATE,
    Comparison,
    Side,
)


def _coverage_labels() -> dict[str, str]:
    return {
        COVERAGE_ALL: _("every key person touched"),
        COVERAGE_SOME: _("some key people touched"),
        COVERAGE_NONE: _("no key person touched"),
        COVERAGE_NO_CHAIN: _("no key person on record"),
    }


class TraitLabels:
    """Labels for (dimension, code); template titles are read once per page."""

    def __init__(self):
        self._templates = None
        # Choices' labels read once: `Choices.values` builds a new list on every call.
        self._actions = {code: str(label) for code, label in ActionKey.choices}
        self._roles = {code: str(label) for code, label in ContactRole.choices}
        self._kinds = {code: str(label) for code, label in FollowUpKind.choices}

    def _template_title(self, code: str) -> str:
        if self._templates is None:
            self._templates = {str(t.pk): t.title for t in ActionTemplate.objects.all()}
        return self._templates.get(code, code)

    def __call__(self, dimension: str, code: str) -> str:
        if dimension == ROLE:
            return _("any key person") if code == ANY_KEY_PERSON else self._roles.get(code, code)
        if dimension == ACTION:
            return self._actions.get(code, code)
        if dimension == TEMPLATE:
            return self._template_title(code)
        if dimension == CHANNEL:
            return vocabulary_label("channel", code) if code else _("no lead (entered by hand)")
        if dimension == FIRST_TOUCH:
            return self._kinds.get(code) or _("no touch in the window")
        if dimension == COVERAGE:
            return _coverage_labels().get(code, code)
        if dimension == COMBINATION:
            if not code:
                return _("touches only")
            return " + ".join(self._actions.get(part, part) for part in code.split("+"))
        return code


def dimension_kind(dimension: str) -> str:
    return {ROLE: _("decision role"), ACTION: _("action"), TEMPLATE: _("template")}.get(dimension, dimension)


@dataclass(frozen=True)
class Headline:
    """The seed's sentence for one side: the role whose touch separates wins most."""

    code: str
    label: str
    lost_lacking: float
    won_having: float


def headline(side: Side) -> Headline | None:
    roles = [c for c in side.traits() if c.dimension == ROLE and not c.too_small and c.separation > 0]
    if not roles or not side.lost or not side.won:
        return None
    top: Comparison = roles[0]
    return Headline(code=top.code, label=top.label, lost_lacking=top.lost_lacking, won_having=top.share_of_won)


@dataclass(frozen=True)
class Echo:
    """The other side's headline role, seen on this side (the seed's "… in South China that
    touch happened in 92 %")."""

    label: str
    share: float
    won_having: float | None
    lost_having: float | None


def echo(side: Side, headline_of_other: Headline | None) -> Echo | None:
    if headline_of_other is None or not side.deals:
        return None
    row = next((c for c in side.comparisons if (c.dimension, c.code) == (ROLE, headline_of_other.code)), None)
    if row is None:
        return None
    lost = row.lost_with + row.lost_without
    return Echo(label=row.label, share=row.n_with / side.deals, won_having=row.share_of_won,
                lost_having=row.lost_with / lost if lost else None)


def sides_labelled(sides: list[Side]) -> list[Side]:
    labels = TraitLabels()
    for side in sides:
        side.comparisons = [replace(c, label=labels(c.dimension, c.code)) for c in side.comparisons]
    return sides


CROSS_SHOWN = 25
NOT_ANY = "-"  # in the cross view's filters: "no lead" / "no touch in the window"


@dataclass(frozen=True)
class CrossView:
    """The four-way combinations of one side the filters keep, the largest first; the first
    `CROSS_SHOWN` shown, the rest counted."""

    rows: list
    more: int
    more_deals: int
    deals: int
    filtered: bool


def cross_view(side: Side, *, channel: str = "", first_touch: str = "", action: str = "", coverage: str = "",
               shown: int = CROSS_SHOWN) -> CrossView:
    def wanted(value: str, asked: str) -> bool:
        return not asked or value == ("" if asked == NOT_ANY else asked)

    kept = [cell for cell in side.cells
            if wanted(cell.channel, channel) and wanted(cell.first_touch, first_touch)
            and (not action or action in cell.actions) and wanted(cell.coverage, coverage)]
    rest = kept[shown:]
    labels = TraitLabels()  # only the rows shown: a big tenant has thousands of combinations
    rows = [
        replace(cell, labels=(labels(CHANNEL, cell.channel), labels(FIRST_TOUCH, cell.first_touch),
                              labels(COMBINATION, cell.combination), labels(COVERAGE, cell.coverage)))
        for cell in kept[:shown]
    ]
    return CrossView(rows=rows, more=len(rest), more_deals=sum(c.deals for c in rest),
                     deals=sum(c.deals for c in kept), filtered=any((channel, first_touch, action, coverage)))


def cross_choices() -> dict[str, list[tuple[str, str]]]:
    """The cross view's filter choices, "any" first."""
    from salesflow.org.vocabularies import vocabulary_choices

    return {
        "x_channel": [("", _("any channel"))] + vocabulary_choices("channel")
        + [(NOT_ANY, _("no lead (entered by hand)"))],
        "x_first": [("", _("any first touch"))] + [(k, str(label)) for k, label in FollowUpKind.choices]
        + [(NOT_ANY, _("no touch in the window"))],
        "x_action": [("", _("any actions"))] + [(k, str(label)) for k, label in ActionKey.choices if k != ActionKey.TOUCH],
        "x_coverage": [("", _("any coverage"))] + list(_coverage_labels().items()),
    }
