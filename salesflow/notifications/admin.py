from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from audit.admin_mixins import AuditedAdminMixin
from salesflow.memo import MemoForgettingAdminMixin

from .models import Channel, Delivery
from .services import CHANNELS_MEMO_KEY, channel_test_send, delivery_retry


@admin.register(Channel)
class ChannelAdmin(MemoForgettingAdminMixin, AuditedAdminMixin, admin.ModelAdmin):
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
    list_display = ("created_at", "event_key", "channel", "target", "status", "attempts", "last_error", "sent_at")
    list_filter = ("status", "channel")
    search_fields = ("event_key", "target")
    readonly_fields = [f.name for f in Delivery._meta.fields]
    actions = ["retry"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Retry failed deliveries"))
    def retry(self, request, queryset):
        count = sum(delivery_retry(actor=request.user, delivery=d) for d in queryset.filter(status=Delivery.Status.FAILED))
        messages.success(request, _("%(count)d deliveries queued again.") % {"count": count})
