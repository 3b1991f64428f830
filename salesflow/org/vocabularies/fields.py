"""Form fields offering a vocabulary: the reader's labels shown, the canonical code cleaned.

A value typed or posted as a label or synonym is accepted as the value it stands for, so a
form behaves like the intake API. Choices are read when the form is drawn (per tenant)."""
from functools import partial

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from ..models import VocabularyKind
from .selectors import vocabulary_choices, vocabulary_codes, vocabulary_resolve


def vocabulary_unknown_message(kind: str, value: str) -> str:
    """“… is not in the list; allowed: a, b, c” — the sentence every capture path answers with."""
    allowed = ", ".join(vocabulary_codes(kind)) or "—"
    return _("%(list)s “%(value)s” is not in the list; allowed: %(allowed)s.") % {
        "list": VocabularyKind(kind).label, "value": value, "allowed": allowed,
    }


def _choices(kind: str, blank: bool, keep) -> list[tuple[str, str]]:
    choices = vocabulary_choices(kind, keep=keep() if callable(keep) else keep)
    return [("", "—"), *choices] if blank else choices


def _canonical(kind: str, value: str) -> str:
    return vocabulary_resolve(kind, value) or value


class VocabularyChoiceField(forms.ChoiceField):
    """One value of the `kind` list; cleans to its code (or "" when not required and left blank)."""

    def __init__(self, kind: str, *, keep=(), **kwargs):
        self.kind = kind
        kwargs.setdefault("label", VocabularyKind(kind).label)
        super().__init__(**kwargs)
        self.choices = partial(_choices, kind, not self.required, keep)

    def keep(self, codes) -> None:
        """Also offer (and accept) `codes` a record already holds, even if no longer active."""
        self.choices = partial(_choices, self.kind, not self.required, list(codes or ()))

    def to_python(self, value):
        value = " ".join(super().to_python(value).split())
        return _canonical(self.kind, value) if value else ""

    def validate(self, value):
        if value in self.empty_values:
            return super().validate(value)
        if not self.valid_value(value):
            raise ValidationError(vocabulary_unknown_message(self.kind, value), code="invalid_choice")


class VocabularyMultipleChoiceField(forms.MultipleChoiceField):
    """Several values of the `kind` list (rule conditions, a rep's industries); cleans to codes."""

    widget = forms.CheckboxSelectMultiple

    def __init__(self, kind: str, *, keep=(), **kwargs):
        self.kind = kind
        kwargs.setdefault("label", VocabularyKind(kind).label)
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.choices = partial(_choices, kind, False, keep)

    def keep(self, codes) -> None:
        """Also offer (and accept) `codes` a record already holds, even if no longer active."""
        self.choices = partial(_choices, self.kind, False, list(codes or ()))

    def to_python(self, value):
        codes = []
        for item in super().to_python(value):
            code = _canonical(self.kind, " ".join(item.split()))
            if code and code not in codes:
                codes.append(code)
        return codes

    def validate(self, value):
        if self.required and not value:
            raise ValidationError(self.error_messages["required"], code="required")
        for item in value:
            if not self.valid_value(item):
                raise ValidationError(vocabulary_unknown_message(self.kind, item), code="invalid_choice")
