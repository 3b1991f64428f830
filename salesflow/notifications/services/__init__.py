"""Notifications: in-app messages (`inbox`), the outbox of outside sends (`deliveries`), channels."""
from .channels import channel_test_send
from .deliveries import (
    BACKOFF_SECONDS,
    KICK_GRACE,
    LEASE,
    MAX_ATTEMPTS,
    SEND_TIME_LIMIT,
    SendOutcome,
    deliveries_queue,
    deliveries_sweep,
    delivery_ref,
    delivery_retry,
    delivery_send,
    transport_send,
)
from .inbox import (
    CHANNELS_MEMO_KEY,
    INSERT_SQL,
    NotifyOutsideTransaction,
    PendingNotification,
    absolute_link,
    channels_enabled,
    notification_mark_read,
    notification_prepare,
    notify,
)

__all__ = [
    "BACKOFF_SECONDS", "CHANNELS_MEMO_KEY", "INSERT_SQL", "KICK_GRACE", "LEASE", "MAX_ATTEMPTS", "SEND_TIME_LIMIT",
    "NotifyOutsideTransaction", "PendingNotification", "SendOutcome", "absolute_link", "channel_test_send", "channels_enabled",
    "deliveries_queue", "deliveries_sweep", "delivery_ref", "delivery_retry", "delivery_send",
    "notification_mark_read", "notification_prepare", "notify", "transport_send",
]
