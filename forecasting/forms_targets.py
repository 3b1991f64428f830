"""Forms of the targets pages: they validate and never save."""
from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from salesflow.org.scoping import visible_user_ids
from salesflow.org.vocabularies import VocabularyChoiceField

from .amounts import AmountError, parse_amount
from .models_targets import PeriodKind
from .services.periods import Period, period_of

AMOUNT_ERRORS = {
    "empty": _("Enter the target amount."),
    "negative": _("A target cannot be negative."),
    "unreadable": _("Not an amount: write it like 1,200,000 or 120万."),
    "too precise": _("At most two decimals (fen)."),
    "too large": _("That is more than a target can be (under 1,000,000,000,000)."),
}


class AmountField(forms.CharField):
    """An amount in yuan, typed as "1,200,000", "120万", "￥85.5万" or "1.2亿"."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 40)
        super().__init__(**kwargs)
        self.widget.attrs.update({"inputmode": "decimal", "autocomplete": "off"})

    def clean(self, value):
        value = super().clean(value)
        try:
            return parse_amount(value)
        except AmountError as exc:
            raise forms.ValidationError(AMOUNT_ERRORS[str(exc)], code="amount") from None


class PeriodForm(forms.Form):
    """Which period and product line a targets page shows (defaults: this month, every line)."""

    kind = forms.ChoiceField(label=_("period"), choices=PeriodKind.choices, required=False)
    start = forms.DateField(label=_("month or quarter of"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    line = VocabularyChoiceField("product_line", required=False)

    def period(self, *, today) -> Period:
        data = self.cleaned_data if self.is_valid() else {}
        return period_of(data.get("kind") or PeriodKind.MONTH, data.get("start") or today)

    def product_line(self) -> str:
        return (self.cleaned_data.get("line") or "") if self.is_valid() else ""


class TargetForm(forms.Form):
    amount = AmountField(label=_("target amount"), help_text=_("e.g. 1,200,000 or 120万"))
    owner = forms.ModelChoiceField(label=_("owner"), queryset=get_user_model().objects.none(), required=False,
                                   help_text=_("Who answers for reaching this target."))
    deadline = forms.DateField(label=_("deadline"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    reason = forms.CharField(label=_("reason for the change"), max_length=200, required=False)

    def __init__(self, *args, user, period: Period, **kwargs):
        super().__init__(*args, **kwargs)
        self.period = period
        users = get_user_model().objects.filter(member__isnull=False).select_related("member").order_by("member__full_name")
        visible = visible_user_ids(user)
        if visible is not None:
            users = users.filter(pk__in=visible)
        self.fields["owner"].queryset = users
        self.fields["owner"].label_from_instance = lambda u: u.member.full_name

    def clean_deadline(self):
        deadline = self.cleaned_data["deadline"]
        if not (self.period.start <= deadline <= self.period.last_day):
            raise forms.ValidationError(
                _("The deadline must fall inside the period (%(start)s – %(end)s)."),
                params={"start": self.period.start.isoformat(), "end": self.period.last_day.isoformat()},
            )
        return deadline
