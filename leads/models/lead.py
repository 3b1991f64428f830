"""A lead, its touches, and the tenant's scoring and pool policy."""
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from salesflow.i18n import render
from salesflow.search import EVERYONE, search_document_field


class Channel:
    """Codes of the channels the software assigns by itself. Channels are the tenant's channel
    vocabulary (salesflow.org.vocabularies); these four are always in it."""

    WEB_FORM = "web_form"
    API = "api"
    CSV = "csv"
    MANUAL = "manual"


class BudgetGrade(models.TextChoices):
    A = "A", "A"
    B = "B", "B"
    C = "C", "C"


class LeadStatus(models.TextChoices):
    ASSIGNED = "assigned", _("Assigned")
    ACCEPTED = "accepted", _("Accepted")
    CONTACTED = "contacted", _("Contacted")
    POOL = "pool", _("In the public pool")
    CONVERTED = "converted", _("Converted")
    LOST = "lost", _("Lost")
    MERGED = "merged", _("Merged")


OPEN_STATUSES = (LeadStatus.ASSIGNED, LeadStatus.ACCEPTED, LeadStatus.CONTACTED)


class Lead(models.Model):
    company = models.CharField(_("company"), max_length=200, blank=True)
    contact_name = models.CharField(_("contact name"), max_length=100)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    phone_normalized = models.CharField(_("phone (E.164)"), max_length=20, blank=True)
    email = models.CharField(_("e-mail"), max_length=254, blank=True)
    email_normalized = models.CharField(max_length=254, blank=True)
    channel = models.CharField(_("channel"), max_length=20)  # a code of the channel vocabulary
    industry = models.CharField(_("industry"), max_length=64, blank=True)
    region = models.CharField(_("region"), max_length=100, blank=True)
    product_line = models.CharField(_("product line"), max_length=64, blank=True)
    budget_grade = models.CharField(_("budget grade"), max_length=1, choices=BudgetGrade.choices, blank=True)
    industry_match = models.PositiveSmallIntegerField(_("industry match (0–100)"), null=True, blank=True)
    tier = models.CharField(_("customer tier"), max_length=32, blank=True)  # a code of the tier vocabulary
    external_id = models.CharField(_("external id"), max_length=100, blank=True)
    note = models.TextField(_("note"), blank=True)
    score = models.IntegerField(_("score"), default=0)
    score_breakdown = models.JSONField(_("score breakdown"), default=dict, blank=True)

    status = models.CharField(_("status"), max_length=16, choices=LeadStatus.choices, default=LeadStatus.POOL)
    owner = models.ForeignKey(  # indexed by leads_owner_status_idx and leads_owner_assigned_idx, which lead with it
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), null=True, blank=True, on_delete=models.SET_NULL, related_name="leads",
        db_index=False,
    )
    routing_rule = models.ForeignKey(
        "RoutingRule", verbose_name=_("routing rule"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Leads routed before stored messages keep their sentence in routing_reason; new ones keep the message.
    routing_reason = models.TextField(_("routing reason"), blank=True)
    routing_reason_message = models.JSONField(_("routing reason"), default=dict, blank=True)
    merged_into = models.ForeignKey(  # indexed only where set (leads_merged_into_idx): almost every lead has none
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_leads", db_index=False
    )

    created_at = models.DateTimeField(_("received at"), default=timezone.now)
    assigned_at = models.DateTimeField(_("assigned at"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    first_touch_at = models.DateTimeField(_("first touch at"), null=True, blank=True)
    last_touch_at = models.DateTimeField(_("last touch at"), null=True, blank=True)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    pool_since = models.DateTimeField(_("in the pool since"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    search_document = search_document_field("company", "contact_name", "phone")
    # Who finds it in the global search (salesflow.search): the owner, everyone while in the pool, nobody once merged.
    search_owners = models.GeneratedField(
        expression=models.Case(
            models.When(status=LeadStatus.POOL, then=models.Value([EVERYONE], output_field=ArrayField(models.IntegerField()))),
            models.When(status=LeadStatus.MERGED, then=models.Value([], output_field=ArrayField(models.IntegerField()))),
            default=models.Func(models.F("owner"), template="ARRAY[%(expressions)s]::integer[]"),
            output_field=ArrayField(models.IntegerField()),
        ),
        output_field=ArrayField(models.IntegerField()), db_persist=True, verbose_name=_("visible through"),
    )

    class Meta:
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        ordering = ["-created_at", "-id"]
        constraints = [
            # Dedup under concurrent intake: the database, not a check-then-insert, decides.
            models.UniqueConstraint(
                fields=["phone_normalized"], condition=~models.Q(phone_normalized="") & models.Q(merged_into__isnull=True),
                name="leads_unique_phone",
            ),
            models.UniqueConstraint(
                fields=["email_normalized"], condition=~models.Q(email_normalized="") & models.Q(merged_into__isnull=True),
                name="leads_unique_email",
            ),
            models.UniqueConstraint(fields=["external_id"], condition=~models.Q(external_id=""), name="leads_unique_external_id"),
            models.CheckConstraint(
                condition=models.Q(industry_match__isnull=True) | models.Q(industry_match__lte=100), name="leads_match_0_100"
            ),
            models.CheckConstraint(
                condition=~models.Q(status__in=["assigned", "accepted", "contacted"]) | models.Q(owner__isnull=False),
                name="leads_open_lead_has_owner",
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "status"], name="leads_owner_status_idx"),
            # Top performer's 7-day close rate: a rep's recent assignments, not their whole history.
            models.Index(fields=["owner", "assigned_at"], name="leads_owner_assigned_idx"),
            models.Index(fields=["status", "-created_at"], name="leads_status_created_idx"),
            models.Index(fields=["claimed_at"], condition=models.Q(claimed_at__isnull=False), name="leads_claimed_idx"),
            models.Index(fields=["merged_into"], condition=models.Q(merged_into__isnull=False), name="leads_merged_into_idx"),
            GinIndex(fields=["search_document", "search_owners"], name="leads_search_idx"),
        ]

    def __str__(self):
        return f"{self.company or self.contact_name} #{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def routing_reason_text(self) -> str:
        return render(self.routing_reason_message, fallback=self.routing_reason)

    @property
    def seconds_to_first_touch(self) -> float | None:
        if self.first_touch_at is None or self.assigned_at is None:
            return None
        return (self.first_touch_at - self.assigned_at).total_seconds()


class LeadTouch(models.Model):
    """Contact with a lead's customer, or a repeated submission attached to the lead."""

    class Kind(models.TextChoices):
        CALL = "call", _("Call")
        WECOM = "wecom", _("WeChat / WeCom")
        VISIT = "visit", _("Visit")
        EMAIL = "email", _("E-mail")
        RESUBMISSION = "resubmission", _("Submitted again")
        NOTE = "note", _("Note")

    CONTACT_KINDS = (Kind.CALL, Kind.WECOM, Kind.VISIT, Kind.EMAIL)

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="touches", verbose_name=_("lead"))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("actor"))
    channel = models.CharField(_("channel"), max_length=20, blank=True)
    note = models.TextField(_("note"), blank=True)
    payload = models.JSONField(default=dict, blank=True, verbose_name=_("payload"))
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("lead touch")
        verbose_name_plural = _("lead touches")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["lead", "-at"], name="leads_touch_lead_at_idx")]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.lead_id} · {self.at:%Y-%m-%d %H:%M}"


class LeadPolicy(models.Model):
    """Scoring weights and pool timing for the tenant (one row, pk=1)."""

    industry_match_weight = models.DecimalField(_("points per industry-match point"), max_digits=5, decimal_places=2, default=0.4)
    grade_points = models.JSONField(_("budget grade points"), default=dict)
    channel_points = models.JSONField(_("channel points"), default=dict, blank=True)
    tier_points = models.JSONField(_("tier points"), default=dict, blank=True)
    pool_hold_hours = models.PositiveIntegerField(_("claimed lead released after (hours without follow-up)"), default=72)
    pool_cooling_hours = models.PositiveIntegerField(_("former claimer may not re-claim for (hours)"), default=48)

    class Meta:
        verbose_name = _("scoring and pool policy")
        verbose_name_plural = _("scoring and pool policy")

    def __str__(self):
        return str(_("Scoring and pool policy"))
