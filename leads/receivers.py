"""Keeping routing's copies in step with the org: a member's capacity lives on their load row too."""
from django.db.models.signals import post_save
from django.dispatch import receiver

from salesflow.org.models import Member

from .services.routing import rep_capacity_copy


@receiver(post_save, sender=Member, dispatch_uid="leads.member_capacity_copy")
def member_capacity_copy(sender, instance: Member, **kwargs):
    rep_capacity_copy(instance.user_id, instance.capacity)
