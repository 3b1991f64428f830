from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from salesflow.i18n import render


class Notification(models.Model):
    """One in-app message to one person; (event_key, recipient) is unique so an event notifies once."""

    class Kind(models.TextChoices):
        INFO = "info", _("Information")
        ASSIGNMENT = "assignment", _("Assignment")
        ALERT = "alert", _("Alert")

    recipient = models.ForeignKey(  # indexed by notifications_inbox_idx, which leads with it
        settings.AUTH_USER_MODEL, verbose_name=_("recipient"), on_delete=models.CASCADE, related_name="notifications",
        db_index=False,
    )
    event_key = models.CharField(_("event key"), max_length=200)
    kind = models.CharField(_("kind"), max_length=32, default=Kind.INFO)
    # Rows written before stored messages keep their sentence here; new rows leave it empty.
    title = models.CharField(_("title"), max_length=200, blank=True)
    body = models.TextField(_("body"), blank=True)
    message = models.JSONField(
        _("message"), default=dict, blank=True,
        help_text=_("Title and body as message keys with parameters, rendered in the reader's language."),
    )
    link = models.CharField(_("link"), max_length=500, blank=True)
    payload = models.JSONField(_("payload"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), db_default=models.functions.Now())
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["event_key", "recipient"], name="notifications_one_per_event_recipient")
        ]
        indexes = [
            models.Index(
                fields=["recipient"], condition=models.Q(read_at__isnull=True), name="notifications_unread_idx"
            ),
            models.Index(fields=["recipient", "-created_at"], name="notifications_inbox_idx"),
        ]

    def __str__(self):
        return self.title_text

    @property
    def title_text(self) -> str:
        return render(self.message.get("title"), fallback=self.title)

    @property
    def body_text(self) -> str:
        return render(self.message.get("body"), fallback=self.body)

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class Channel(models.Model):
    """An outside channel the tenant sends notifications through."""

    class Kind(models.TextChoices):
        EMAIL = "email", _("E-mail to each recipient")
        DINGTALK = "dingtalk", _("DingTalk custom robot")
        WECOM = "wecom", _("WeCom group robot")

    class Format(models.TextChoices):
        MARKDOWN = "markdown", _("Markdown")
        TEXT = "text", _("Plain text")

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    webhook_url = models.URLField(
        _("webhook URL"), max_length=500, blank=True,
        help_text=_("DingTalk: https://oapi.dingtalk.com/robot/send?access_token=…; "
                    "WeCom: https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…"),
    )
    secret = models.CharField(
        _("signing secret"), max_length=200, blank=True,
        help_text=_("DingTalk 'additional signature' secret (SEC…); leave empty if the robot does not sign."),
    )
    message_format = models.CharField(_("message format"), max_length=16, choices=Format.choices, default=Format.MARKDOWN)
    enabled = models.BooleanField(_("enabled"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("notification channel")
        verbose_name_plural = _("notification channels")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="email") | ~models.Q(webhook_url=""),
                name="notifications_robot_needs_webhook",
            )
        ]

    def __str__(self):
        return f"{self.name} ({self.get_kind_display()})"

    @property
    def is_robot(self) -> bool:
        return self.kind in (self.Kind.DINGTALK, self.Kind.WECOM)


class Delivery(models.Model):
    """The outbox: one send of one event through one channel to one target.

    Written in the transaction that raised the event, so a commit always leaves a row
    to send; (event_key, channel, target) is unique so an event has one row per target.
    Sent at least once (see services/deliveries.py); a re-send after an attempt of unknown
    outcome carries the same reference, `SF-<id>`.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    event_key = models.CharField(_("event key"), max_length=200)
    channel = models.ForeignKey(Channel, verbose_name=_("channel"), on_delete=models.CASCADE, related_name="deliveries")
    target = models.CharField(_("target"), max_length=254, help_text=_("E-mail address, or the robot for group channels."))
    notification = models.ForeignKey(
        Notification, verbose_name=_("notification"), null=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    # As for notifications: sentences of rows written before stored messages; new rows keep `message`,
    # rendered when sent, in the recipient's language (group robots: the tenant's default).
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    text = models.TextField(_("text"), blank=True)
    message = models.JSONField(_("message"), default=dict, blank=True)
    link = models.CharField(_("link"), max_length=500, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), db_default=models.functions.Now())
    next_attempt_at = models.DateTimeField(_("next attempt at"), db_default=models.functions.Now())
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["event_key", "channel", "target"], name="notifications_one_send_per_target")
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"], condition=models.Q(status="pending"), name="notifications_pending_idx"
            ),
            # The sweep's expired leases and the admins' failure count read only these few rows.
            models.Index(fields=["claimed_at"], condition=models.Q(status="sending"), name="notifications_sending_idx"),
            models.Index(fields=["created_at"], condition=models.Q(status="failed"), name="notifications_failed_idx"),
        ]

    def __str__(self):
        return f"SF-{self.pk}: {self.event_key} → {self.target}"

    @property
    def subject_text(self) -> str:
        return render(self.message.get("title"), fallback=self.subject)

    @property
    def body_text(self) -> str:
        return render(self.message.get("body"), fallback=self.text)
