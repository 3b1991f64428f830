from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from salesflow.fields import LongTextField
from salesflow.org.models import Role
from salesflow.org.scoping import visible_user_ids
from salesflow.org.vocabularies import VocabularyChoiceField

from .models import BudgetGrade, Channel, LeadTouch
from .services import lead_payload_validate
from .services.validation import FIELDS


class LeadForm(forms.Form):
    """Manual entry and the public web form share the API's validator and its vocabularies, so a
    lead typed by a rep or sent through the web form routes exactly as one sent by a machine."""

    company = forms.CharField(label=_("Company"), max_length=200, required=False)
    contact_name = forms.CharField(label=_("Contact name"), max_length=100)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    email = forms.CharField(label=_("E-mail"), max_length=254, required=False)
    industry = VocabularyChoiceField("industry", label=_("Industry"), required=False)
    region = VocabularyChoiceField("region", label=_("Region"), required=False)
    product_line = VocabularyChoiceField("product_line", label=_("Product line"), required=False)
    budget_grade = forms.ChoiceField(label=_("Budget grade"), choices=[("", "—"), *BudgetGrade.choices], required=False)
    industry_match = forms.IntegerField(label=_("Industry match (0–100)"), min_value=0, max_value=100, required=False)
    tier = VocabularyChoiceField("tier", label=_("Customer tier"), required=False)
    channel = VocabularyChoiceField("channel", label=_("Channel"), initial=Channel.MANUAL)
    note = LongTextField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000, required=False)

    def clean(self):
        data = super().clean()
        clean, errors = lead_payload_validate({k: v for k, v in data.items() if k in FIELDS and v not in (None, "")}, coerce_strings=True)
        for field, messages in errors.items():
            if field not in self.errors:  # the field's own check already said what is wrong
                self.add_error(field if field in self.fields else None, messages)
        self.payload = clean
        return data


class WebForm(LeadForm):
    """The public form: fewer fields, a honeypot, the channel fixed."""

    website = forms.CharField(required=False, widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("industry_match", "channel", "budget_grade"):
            del self.fields[name]
        self.fields["tier"].label = _("Type of organisation")

    def clean(self):
        data = super().clean()
        self.payload["channel"] = Channel.WEB_FORM
        return data


class TouchForm(forms.Form):
    kind = forms.ChoiceField(choices=[(k, LeadTouch.Kind(k).label) for k in LeadTouch.CONTACT_KINDS])
    note = LongTextField(required=False, max_length=2000)


class ReassignForm(forms.Form):
    new_owner = forms.ModelChoiceField(label=_("New owner"), queryset=get_user_model().objects.none())
    reason = forms.CharField(label=_("Reason"), max_length=500)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        reps = get_user_model().objects.filter(member__role=Role.REP).select_related("member").order_by("member__full_name")
        visible = visible_user_ids(user)
        self.fields["new_owner"].queryset = reps if visible is None else reps.filter(pk__in=visible)
        self.fields["new_owner"].label_from_instance = lambda u: u.member.full_name
