"""What routing decides against besides the rules: each rep's load and the roster versions."""
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


NO_CAPACITY_YET = 2_147_483_647  # a row made outside routing: never "full" until routing copies the capacity


class RepLoad(models.Model):
    """Each rep's routing state: open leads, capacity and 7-day close rate, one row per rep.

    `UPDATE … SET open_count = open_count + 1 WHERE open_count < capacity` decides a slot
    atomically under concurrent intake; counting leads would need a lock per rep instead.
    `capacity` and `rank` are copies routing keeps up to date (the member's capacity whenever
    the count moves or a new roster version is seen; the close rate when it is recounted) so
    the pick (leads.services.pick) is an index scan: the free reps in the strategy's order, and
    the few at capacity.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, primary_key=True, on_delete=models.CASCADE, related_name="+", verbose_name=_("user"))
    open_count = models.IntegerField(default=0, verbose_name=_("open leads"))
    capacity = models.IntegerField(default=NO_CAPACITY_YET, db_default=NO_CAPACITY_YET, verbose_name=_("capacity"))
    rank = models.FloatField(default=0.0, db_default=0.0, verbose_name=_("7-day close rate"))

    class Meta:
        verbose_name = _("rep load")
        verbose_name_plural = _("rep loads")
        constraints = [models.CheckConstraint(condition=models.Q(open_count__gte=0), name="leads_load_not_negative")]
        indexes = [
            # Who is at capacity: few rows, read for every routing story.
            models.Index(fields=["user"], condition=models.Q(open_count__gte=models.F("capacity")), name="leads_load_full_idx"),
            models.Index(models.F("rank").desc(), "open_count", "user", condition=models.Q(open_count__lt=models.F("capacity")),
                         name="leads_load_top_free_idx"),
        ]

    def __str__(self):
        return f"{self.user_id}: {self.open_count}"


class RosterVersion(models.Model):
    """Every rep's routing profile as it was, named by the digest of its content.

    Routing decisions refer to the version they were decided against, so a lead's routing story
    rebuilds every candidate without each decision storing the whole roster.
    """

    digest = models.CharField(max_length=32, primary_key=True)
    reps = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("roster version")
        verbose_name_plural = _("roster versions")

    def __str__(self):
        return self.digest[:10]


class PoolSeat(models.Model):
    """A rep qualified and available in one routing pool, as one roster version and basis define it.

    `pool` is a digest of (roster version, pool basis) (leads.services.roster.pool_key): written
    once, the first time any process routes into that pool, so a lead's pick walks this index
    instead of receiving the pool from the process.
    """

    pk = models.CompositePrimaryKey("pool", "user_id")
    pool = models.BigIntegerField()
    user_id = models.BigIntegerField()
    made_on = models.DateField()

    class Meta:
        verbose_name = _("pool seat")
        verbose_name_plural = _("pool seats")
        indexes = [models.Index(fields=["made_on"], name="leads_seat_made_on_idx")]

    def __str__(self):
        return f"{self.pool}: {self.user_id}"
