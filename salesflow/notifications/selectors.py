from django.db.models import QuerySet

from .models import Delivery, Notification


def notification_list(*, user) -> QuerySet[Notification]:
    """The user's own inbox: nobody reads anyone else's notifications, managers included."""
    return Notification.objects.filter(recipient=user).order_by("-created_at", "-id")


def notification_unread_count(*, user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def deliveries_failed_count() -> int:
    """Outside sends that gave up (in the current tenant): shown to admins until re-sent."""
    return Delivery.objects.filter(status=Delivery.Status.FAILED).count()
