from django import forms
from django.utils.translation import gettext_lazy as _

from salesflow.csvtext import CsvEncodingError, csv_decode
from salesflow.fields import DateField

from .models import Availability


class AvailabilityForm(forms.Form):
    availability = forms.ChoiceField(label=_("Availability"), choices=Availability.choices)
    away_from = DateField(label=_("Away from"), required=False)
    away_until = DateField(label=_("Away until"), required=False)
    reason = forms.CharField(label=_("Note"), required=False, max_length=200)

    def clean(self):
        data = super().clean()
        start, end = data.get("away_from"), data.get("away_until")
        if data.get("availability") != Availability.AVAILABLE and not start:
            self.add_error("away_from", _("Say from which day you are away."))
        if start and end and end < start:
            self.add_error("away_until", _("The end of an absence cannot come before its start."))
        return data


class RosterUploadForm(forms.Form):
    file = forms.FileField(label=_("Roster CSV"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > 5 * 1024 * 1024:
            raise forms.ValidationError(_("The file is larger than 5 MB."))
        try:
            return csv_decode(upload.read())  # UTF-8 (BOM or not), GBK/GB18030 or UTF-16 as Excel writes them
        except CsvEncodingError as exc:
            raise forms.ValidationError(str(exc)) from None
