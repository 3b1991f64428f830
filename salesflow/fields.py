"""Form fields with our conventions: dates as Chinese offices write them, long texts refused
(never cut) past their limit. Used by forms and FilterSets alike."""
import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

# ISO first (what a date picker sends), then what people type in China. Nothing ambiguous
# like 11/20/2026 or 20/11/2026: refused with the accepted forms named.
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%Y/%m/%d", "%Y年%m月%d日", "%Y.%m.%d"]


class _NamesWhatItReads:
    """Strips the typed value and answers an unreadable one with the forms it does read,
    quoting what was typed (Django's own message says only "Enter a valid date")."""

    widget_class: type
    widget_attrs_: dict
    widget_format: str

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", self.widget_class(attrs=self.widget_attrs_, format=self.widget_format))
        super().__init__(**kwargs)

    def bound_data(self, data, initial):
        # A typed "2026年11月20日" that was read is shown back in the picker's own (ISO) form:
        # a date input shows nothing for a value it cannot parse, hiding an active filter.
        try:
            return self.to_python(data) or data
        except ValidationError:
            return data

    def to_python(self, value):
        try:
            return super().to_python(value.strip() if isinstance(value, str) else value)
        except ValidationError as exc:
            if getattr(exc, "code", None) == "invalid":
                raise ValidationError(self.error_messages["invalid"], code="invalid", params={"value": value}) from None
            raise


class DateField(_NamesWhatItReads, forms.DateField):
    """A date picker that answers what it cannot read instead of ignoring it."""

    input_formats = DATE_INPUT_FORMATS
    widget_class, widget_attrs_, widget_format = forms.DateInput, {"type": "date"}, "%Y-%m-%d"
    default_error_messages = {
        "invalid": _("“%(value)s” is not a date we can read: write 2026-11-20, 2026/11/20 or 2026年11月20日."),
    }


DATETIME_INPUT_FORMATS = [f"{day} {clock}" for day in DATE_INPUT_FORMATS for clock in ("%H:%M", "%H:%M:%S")]


class DateTimeField(_NamesWhatItReads, forms.DateTimeField):
    """A date-time picker (the tenant's zone) that names the forms it reads when it cannot."""

    input_formats = DATETIME_INPUT_FORMATS
    widget_class, widget_attrs_, widget_format = forms.DateTimeInput, {"type": "datetime-local"}, "%Y-%m-%dT%H:%M"
    default_error_messages = {
        "invalid": _("“%(value)s” is not a date and time we can read: write 2026-11-20 14:30."),
    }


class DateFilter(django_filters.DateFilter):
    field_class = DateField


class LongTextField(forms.CharField):
    """Free text with a length limit the server enforces with a clear message.

    The widget carries no maxlength: a browser would silently cut a pasted 20,000
    characters to the limit and the person would believe everything was saved."""

    def __init__(self, *, max_length: int, **kwargs):
        # Not handed to CharField: that would put maxlength on the widget and add Django's
        # own validator, saying the same thing a second time, less plainly.
        super().__init__(**kwargs)
        self.limit = max_length

    def validate(self, value):
        super().validate(value)
        if value and len(value) > self.limit:
            raise ValidationError(too_long_message(len(value), self.limit), code="max_length")


def too_long_message(length: int, limit: int) -> str:
    return ngettext(
        "This text has %(length)s characters; at most %(limit)s fit. Shorten it or attach the rest as a file.",
        "This text has %(length)s characters; at most %(limit)s fit. Shorten it or attach the rest as a file.",
        length,
    ) % {"length": f"{length:,}", "limit": f"{limit:,}"}
