from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from salesflow.fields import DateTimeField, LongTextField

from .models import ContactRole, FollowUpKind, LocationStatus, Stage
from .services.records import SUMMARY_MAX_LENGTH


class LocationForm(forms.Form):
    """What the browser said about where the rep is; every field optional."""

    location_status = forms.ChoiceField(choices=LocationStatus.choices, required=False)
    latitude = forms.DecimalField(max_digits=9, decimal_places=6, min_value=Decimal(-90), max_value=Decimal(90), required=False)
    longitude = forms.DecimalField(
        max_digits=9, decimal_places=6, min_value=Decimal(-180), max_value=Decimal(180), required=False
    )
    accuracy = forms.IntegerField(min_value=0, required=False)

    def clean(self):
        data = super().clean()
        has_position = data.get("latitude") is not None and data.get("longitude") is not None
        if data.get("location_status") == LocationStatus.GIVEN and not has_position:
            raise forms.ValidationError(_("A location was announced without coordinates."))
        if has_position:
            data["location_status"] = LocationStatus.GIVEN
        elif data.get("location_status") == LocationStatus.GIVEN:
            data["location_status"] = LocationStatus.UNAVAILABLE
        return data


class VisitForm(LocationForm):
    outcome = forms.CharField(max_length=40)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, (list, tuple)):
            return [single(d, initial) for d in data]
        return [single(data, initial)] if data else []


class FollowUpForm(LocationForm):
    kind = forms.ChoiceField(label=_("kind"), choices=FollowUpKind.choices)
    summary = LongTextField(label=_("summary"), widget=forms.Textarea(attrs={"rows": 3}), max_length=SUMMARY_MAX_LENGTH)
    contacts = forms.ModelMultipleChoiceField(label=_("contacts touched"), queryset=None, required=False,
                                              widget=forms.CheckboxSelectMultiple)
    next_step = forms.CharField(label=_("next step"), max_length=200, required=False)
    next_step_due_at = DateTimeField(label=_("next step due"), required=False)
    files = MultipleFileField(label=_("evidence"), required=False)

    def __init__(self, *args, account, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contacts"].queryset = account.contacts.all()

    def clean(self):
        data = super().clean()
        if data.get("next_step_due_at") and not data.get("next_step"):
            self.add_error("next_step", _("Say what the next step is."))
        return data


class StageForm(forms.Form):
    stage = forms.ModelChoiceField(label=_("move to"), queryset=Stage.objects.all())
    lost_reason = forms.CharField(label=_("lost reason"), max_length=200, required=False)


class ConvertForm(forms.Form):
    opportunity_name = forms.CharField(label=_("opportunity name"), max_length=200, required=False)
    amount = forms.DecimalField(label=_("amount"), max_digits=14, decimal_places=2, min_value=Decimal(0), initial=0)
    contact_role = forms.ChoiceField(label=_("the contact's role"), choices=ContactRole.choices, initial=ContactRole.OTHER)
