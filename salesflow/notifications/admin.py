from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from audit.admin_mixins import AuditedAdminMixin
from salesflow.memo import MemoForgettingAdminMixin

from .models import Channel, Delivery
from .outbound import EndpointRefused, endpoint_check
from .services import CHANNELS_MEMO_KEY, channel_test_send, delivery_ref, delivery_retry


class ChannelAdminForm(forms.ModelForm):
    class Meta:
        model = Channel
        fields = "__all__"

    def clean(self):
        cleaned = super().clean()
        kind, url = cleaned.get("kind"), cleaned.get("webhook_url")
        if kind in (Channel.Kind.DINGTALK, Channel.Kind.WECOM):
            if not url:
                self.add_error("webhook_url", _("A robot channel needs its webhook URL."))
            else:
                try:
                    endpoint_check(url, kind=kind)
                except EndpointRefused as exc:
                    self.add_error("webhook_url", exc.message)
        return cleaned


@admin.register(Channel)
class ChannelAdmin(MemoForgettingAdminMixin, AuditedAdminMixin, admin.ModelAdmin):
    form = ChannelAdminForm
    memo_keys = (CHANNELS_MEMO_KEY,)
    audit_verb_prefix = "notification_channel"
    audit_redacted_fields = ("secret", "webhook_url")
    list_display = ("name", "kind", "message_format", "enabled", "webhook_masked", "created_at")
    list_filter = ("kind", "enabled")
    actions = ["send_test"]

    @admin.display(description=_("webhook"))
    def webhook_masked(self, obj):
        # The token in the URL is a credential: show only where it points.
        return obj.webhook_url.split("?", 1)[0] if obj.webhook_url else "—"

    @admin.action(description=_("Send a test message"))
    def send_test(self, request, queryset):
        for channel in queryset:
            outcome = channel_test_send(actor=request.user, channel=channel)
            if outcome.status == "sent":
                messages.success(request, _("%(channel)s: test message sent.") % {"channel": channel})
            else:
                messages.error(request, _("%(channel)s: sending failed: %(error)s") % {"channel": channel, "error": outcome.error})


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ("reference", "created_at", "event_key", "channel", "target", "status", "attempts", "last_error", "sent_at")
    list_filter = ("status", "channel")
    search_fields = ("event_key", "target")
    readonly_fields = [f.name for f in Delivery._meta.fields]
    actions = ["retry"]

    @admin.display(description=_("reference"), ordering="pk")
    def reference(self, obj):
        return delivery_ref(obj)

    def get_search_results(self, request, queryset, search_term):
        # The reference printed in every message (SF-<id>) finds its row.
        term = search_term.strip().upper()
        if term.startswith("SF-") and term[3:].isdigit():
            return queryset.filter(pk=int(term[3:])), False
        return super().get_search_results(request, queryset, search_term)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Re-send failed deliveries"))
    def retry(self, request, queryset):
        count = sum(delivery_retry(actor=request.user, delivery=d) for d in queryset.filter(status=Delivery.Status.FAILED))
        messages.success(request, _("%(count)d deliveries queued again.") % {"count": count})
