import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ExportForm(forms.Form):
    since = forms.DateField(label=_("from"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    until = forms.DateField(label=_("until"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    required_touches = forms.IntegerField(
        label=_("key-person touches required"), min_value=1, max_value=1000, initial=10,
        help_text=_("The count the tender asks for in the period, e.g. 10 in 6 months."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.fields["since"].initial = today - dt.timedelta(days=183)
        self.fields["until"].initial = today

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", _("The end of the period comes before its start."))
        if until and until > timezone.localdate():
            self.add_error("until", _("The period cannot end in the future."))
        return data
