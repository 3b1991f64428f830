from django import forms
from django.utils.translation import gettext_lazy as _


class ProvisionForm(forms.Form):
    name = forms.CharField(label=_("Company name"), max_length=200)
    schema = forms.CharField(label=_("Schema"), max_length=41, help_text=_("lowercase letters, digits, underscores"))
    domain = forms.CharField(label=_("Host name"), max_length=253, help_text=_("e.g. acme.localhost"))
    admin_email = forms.EmailField(label=_("Admin e-mail"))
    admin_password = forms.CharField(label=_("Admin password"), widget=forms.PasswordInput, min_length=8)
    intake_rate_limit = forms.IntegerField(label=_("Intake rate limit (per minute)"), min_value=1, initial=6000)
