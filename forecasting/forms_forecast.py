from django import forms
from django.utils.translation import gettext_lazy as _

from .accuracy.scores import LEADS
from .models_forecast import CommitCategory


class CommitForm(forms.Form):
    category = forms.ChoiceField(label=_("category"), choices=CommitCategory.choices)


class AdjustForm(forms.Form):
    week = forms.DateField(label=_("week"))
    amount = forms.DecimalField(label=_("committed amount"), min_value=0, max_digits=16, decimal_places=2)
    note = forms.CharField(label=_("note"), max_length=500)


class AccuracyForm(forms.Form):
    lead = forms.TypedChoiceField(label=_("lead time (weeks)"), coerce=int, initial=4,
                                  choices=[(n, str(n)) for n in LEADS], required=False)
    period = forms.ChoiceField(label=_("periods"), choices=[("week", _("weeks")), ("month", _("months"))],
                               required=False)
