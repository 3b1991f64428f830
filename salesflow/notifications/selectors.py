from django.db.models import QuerySet

from .models import Notification


def notification_list(*, user) -> QuerySet[Notification]:
    """The user's own inbox: nobody reads anyone else's notifications, managers included."""
    return Notification.objects.filter(recipient=user).order_by("-created_at", "-id")


def notification_unread_count(*, user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()
