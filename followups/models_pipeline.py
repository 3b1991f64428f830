"""Open pipeline totals per (stage, owner, product line), kept by database triggers (imported by models.py).

The pipeline view's counts and amounts come from here: a few thousand rows instead of
summing every open opportunity on each request (100,000 numeric additions took ~25 ms
of a quiet machine and 60 ms of a busy one). Triggers on the opportunity table keep the
totals exact for every write, services and bulk inserts alike; see migration 0006.
"""
from django.db import models
from django.utils.translation import gettext_lazy as _


class PipelineTotal(models.Model):
    stage_id = models.BigIntegerField()
    owner_id = models.BigIntegerField()
    product_line = models.CharField(max_length=64)
    count = models.BigIntegerField(default=0)
    amount = models.DecimalField(max_digits=20, decimal_places=2, default=0)

    class Meta:
        verbose_name = _("pipeline total")
        verbose_name_plural = _("pipeline totals")
        constraints = [
            models.UniqueConstraint(fields=["stage_id", "owner_id", "product_line"], name="followups_pipelinetotal_key")
        ]

    def __str__(self):
        return f"{self.stage_id} · {self.owner_id} · {self.product_line}: {self.count} / {self.amount}"
