"""One summary row per closed (won or lost) opportunity, kept by database triggers (imported by models.py).

The attribution page counts closed deals by what happened in a window at the start of each
deal (its first N days, or until it closed if sooner). Reading every follow-up and every
contact touched of 100,000 deals on each request took 1.7 s; this row holds, per deal, *when*
(microseconds after the deal was created) each trait first happened before the close, so any
window is a comparison of numbers on one narrow row.

Positions in `action_at` and `role_at` follow `CLOSED_DEAL_ACTIONS` and `CLOSED_DEAL_ROLES`
(the layout the SQL function of migration 0013 was written with; a test pins them to the
choices, so a new action or role comes with a migration that rewrites the function and
refreshes the rows).

What the row reflects, and when it is refreshed (same transaction, by triggers on the tables,
so services, admin, imports and bulk SQL alike keep it exact):
- the deal's outcome, close time, product line, owner and lead channel: whenever the deal is
  closed, reopened (the row goes), re-closed or edited;
- follow-ups before the close (corrections excluded, as everywhere): whenever one is logged on
  a closed deal (a backdated one included) or its contacts change;
- the contacts' decision roles and key-person flags as they are now (no history is kept of
  them): whenever a contact of the account is added, removed or changes role or key flag;
- region and team **as of the close**: taken from the owner's team when the row is written
  and kept through later refreshes, unless the deal changes owner or close time. A rep who
  moves on leaves their closed deals where they were sold.
"""
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _

# Frozen layout of the arrays (see the module docstring).
CLOSED_DEAL_ACTIONS = ("needs_diagnosis", "proposal", "demo", "case_material", "poc", "quote", "tender", "decision_chain",
                       "contract", "legal_review")
CLOSED_DEAL_ROLES = ("cio", "purchasing", "engineer", "finance", "end_user", "other")
CLOSED_DEAL_KINDS = ("call", "wechat", "visit", "email", "meeting")


class ClosedDeal(models.Model):
    opportunity = models.OneToOneField(
        "followups.Opportunity", primary_key=True, on_delete=models.DO_NOTHING, db_constraint=False,
        related_name="closed_summary", verbose_name=_("opportunity"),
    )
    account_id = models.BigIntegerField()
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, db_constraint=False,
                              related_name="+", verbose_name=_("owner"))
    region = models.ForeignKey("org.Region", null=True, on_delete=models.DO_NOTHING, db_constraint=False,
                               related_name="+", verbose_name=_("region"))
    team = models.ForeignKey("org.Team", null=True, on_delete=models.DO_NOTHING, db_constraint=False,
                             related_name="+", verbose_name=_("team"))
    won = models.BooleanField(_("won"))
    created_at = models.DateTimeField(_("created at"))
    closed_at = models.DateTimeField(_("closed at"))
    product_line = models.CharField(_("product line"), max_length=64, blank=True)
    channel = models.CharField(_("lead channel"), max_length=32, blank=True)
    first_kind = models.CharField(_("first touch"), max_length=16, blank=True)
    first_at = models.BigIntegerField(null=True)
    action_at = ArrayField(models.BigIntegerField(null=True), default=list)
    role_at = ArrayField(models.BigIntegerField(null=True), default=list)
    key_at = ArrayField(models.BigIntegerField(), default=list)
    key_people = models.IntegerField(default=0)
    template_ids = ArrayField(models.BigIntegerField(), default=list)
    template_at = ArrayField(models.BigIntegerField(), default=list)

    class Meta:
        verbose_name = _("closed deal summary")
        verbose_name_plural = _("closed deal summaries")
        indexes = [models.Index(fields=["closed_at"], name="followups_closeddeal_closed")]

    def __str__(self):
        return f"{self.opportunity_id} · {'won' if self.won else 'lost'} · {self.closed_at:%Y-%m-%d}"
