from decimal import Decimal
from html import escape

from django import forms
from django.forms.utils import flatatt
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from salesflow.fields import DateTimeField, LongTextField

from salesflow.org.vocabularies.fields import VocabularyChoiceField

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


class QuickSelect(forms.Select):
    """A select rendered in Python: Django renders each option through a template, which
    for a director's 200 reps cost more than the rest of the pipeline page together; and
    plain string building, as `format_html` per option was still a tenth of the page."""

    def render(self, name, value, attrs=None, renderer=None):
        attrs = self.build_attrs(self.attrs, attrs)
        selected = "" if value is None else str(value)
        options = []
        for option_value, label in self.choices:
            option_value = "" if option_value is None else str(option_value)
            mark = " selected" if option_value == selected else ""
            options.append(f'<option value="{escape(option_value)}"{mark}>{escape(str(label))}</option>')
        return mark_safe(f'<select name="{escape(name)}"{flatatt(attrs)}>{"".join(options)}</select>')


def _people_in_scope(user):
    from django.contrib.auth import get_user_model

    from salesflow.org.models import Role
    from salesflow.org.scoping import visible_user_ids

    people = get_user_model().objects.filter(member__role__in=[Role.REP, Role.MANAGER]).select_related("member")
    visible = visible_user_ids(user)
    return (people if visible is None else people.filter(pk__in=visible)).order_by("member__full_name")


class OwnerChoiceField(forms.ModelChoiceField):
    widget = QuickSelect

    def label_from_instance(self, obj):
        return obj.member.full_name


class AccountForm(forms.Form):
    name = forms.CharField(label=_("customer name"), max_length=200)
    industry = VocabularyChoiceField("industry", required=False)
    region = VocabularyChoiceField("region", required=False)
    tier = VocabularyChoiceField("tier", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("industry", "region", "tier"):  # a value the customer holds stays offered
            self.fields[name].keep([self.initial.get(name)] if self.initial.get(name) else [])


class ContactForm(forms.Form):
    name = forms.CharField(label=_("name"), max_length=100)
    title = forms.CharField(label=_("job title"), max_length=100, required=False)
    role = forms.ChoiceField(label=_("decision role"), choices=ContactRole.choices, initial=ContactRole.OTHER)
    is_key_person = forms.BooleanField(label=_("key person"), required=False)
    influence = forms.TypedChoiceField(label=_("influence (1–5)"), coerce=int, initial=3,
                                       choices=[(n, str(n)) for n in range(1, 6)])
    phone = forms.CharField(label=_("phone"), max_length=32, required=False,
                            widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "off"}))
    email = forms.EmailField(label=_("e-mail"), required=False)


class OpportunityEditForm(forms.Form):
    name = forms.CharField(label=_("opportunity name"), max_length=200)
    amount = forms.DecimalField(label=_("amount"), max_digits=14, decimal_places=2, min_value=Decimal(0),
                                widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01"}))
    expected_close = forms.DateField(label=_("expected close"), required=False,
                                     widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    product_line = VocabularyChoiceField("product_line", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.initial.get("product_line"):
            self.fields["product_line"].keep([self.initial["product_line"]])


class OpportunityNewForm(OpportunityEditForm):
    """New opportunity without a lead: an existing customer, or a new one named here."""

    account = forms.ModelChoiceField(label=_("existing customer"), queryset=None, required=False)
    new_account_name = forms.CharField(label=_("or a new customer"), max_length=200, required=False)
    owner = OwnerChoiceField(label=_("owner"), queryset=None, required=False)
    stage = forms.ModelChoiceField(
        label=_("stage"), queryset=Stage.objects.none(), required=False,
        help_text=_("Empty: the first stage. A later stage must meet its gate, as a move would."),
    )

    field_order = ["account", "new_account_name", "name", "amount", "expected_close", "product_line", "stage", "owner"]

    def __init__(self, *args, user, accounts, can_assign: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = accounts
        self.fields["stage"].queryset = Stage.objects.filter(outcome="open").order_by("position", "id")
        if can_assign:
            self.fields["owner"].queryset = _people_in_scope(user)
        else:
            del self.fields["owner"]

    def clean(self):
        data = super().clean()
        if not data.get("account") and not (data.get("new_account_name") or "").strip():
            self.add_error("account", _("Pick a customer or name a new one."))
        if data.get("account") and (data.get("new_account_name") or "").strip():
            self.add_error("new_account_name", _("Either an existing customer or a new one, not both."))
        return data


class ReassignForm(forms.Form):
    new_owner = OwnerChoiceField(label=_("new owner"), queryset=None)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_owner"].queryset = _people_in_scope(user)


class AccountReassignForm(ReassignForm):
    with_open_opportunities = forms.BooleanField(label=_("their open opportunities of this customer go too"),
                                                 required=False, initial=True)


class BulkReassignForm(ReassignForm):
    ids = forms.TypedMultipleChoiceField(coerce=int, choices=[], required=True,
                                         error_messages={"required": _("Select at least one row.")})
    reason = forms.CharField(label=_("reason"), max_length=500, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ids"].valid_value = lambda value: str(value).isdigit()


class PipelineMoveForm(forms.Form):
    stage = forms.ModelChoiceField(queryset=Stage.objects.filter(outcome__in=["open", "won"]))
