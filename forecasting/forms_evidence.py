from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from salesflow.fields import DateTimeField

from .models import EvidenceReview


class ReviewForm(forms.Form):
    action = forms.ChoiceField(label=_("action"), choices=EvidenceReview.Action.choices)
    reason = forms.CharField(label=_("reason"), max_length=500, required=False)


class PrepaymentForm(forms.Form):
    opportunity = forms.IntegerField(label=_("opportunity"), min_value=1, widget=forms.HiddenInput)
    amount = forms.DecimalField(label=_("amount"), max_digits=14, decimal_places=2, min_value=Decimal("0.01"))
    currency = forms.RegexField(label=_("currency"), regex=r"^[A-Z]{3}$", initial="CNY", max_length=3)
    received_at = DateTimeField(label=_("received at"))
    reference = forms.CharField(label=_("reference"), max_length=100)


class DeliveryForm(forms.Form):
    planned_on = forms.DateField(label=_("planned delivery date"), widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label=_("note"), max_length=500, required=False)
