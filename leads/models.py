from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from salesflow.i18n import render
from salesflow.search import EVERYONE, search_document_field


class IntakeKey(models.Model):
    """A tenant's key for the intake API. Only a SHA-256 of the secret is kept."""

    label = models.CharField(_("label"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=16, unique=True, help_text=_("The visible start of the key."))
    key_hash = models.CharField(max_length=64, unique=True, verbose_name=_("key hash"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("created by"),
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        verbose_name = _("intake API key")
        verbose_name_plural = _("intake API keys")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.label} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


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


class Strategy(models.TextChoices):
    TOP_PERFORMER = "top_performer", _("Top performer")
    ROUND_ROBIN = "round_robin", _("Round robin")
    LEAST_LOADED = "least_loaded", _("Least loaded")
    PUBLIC_POOL = "public_pool", _("Public pool")


class RoutingRule(models.Model):
    """Ordered; the first enabled rule whose every filled-in condition holds decides."""

    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveIntegerField(_("order"), default=100, db_index=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    # Conditions: an empty list or blank bound means "any"; values are vocabulary codes.
    budget_grades = ArrayField(models.CharField(max_length=1, choices=BudgetGrade.choices), verbose_name=_("budget grades"), default=list, blank=True)
    industries = ArrayField(models.CharField(max_length=64), verbose_name=_("industries"), default=list, blank=True)
    regions = ArrayField(models.CharField(max_length=100), verbose_name=_("regions"), default=list, blank=True)
    product_lines = ArrayField(models.CharField(max_length=64), verbose_name=_("product lines"), default=list, blank=True)
    channels = ArrayField(models.CharField(max_length=20), verbose_name=_("channels"), default=list, blank=True)
    tiers = ArrayField(models.CharField(max_length=32), verbose_name=_("tiers"), default=list, blank=True)
    score_min = models.IntegerField(_("score at least"), null=True, blank=True)
    score_max = models.IntegerField(_("score at most"), null=True, blank=True)
    # The rep pool the action draws from.
    pool_label = models.CharField(_("pool name"), max_length=100, blank=True, help_text=_("e.g. key account, inclusive"))
    pool_teams = models.ManyToManyField("org.Team", verbose_name=_("teams"), blank=True, related_name="+")
    pool_regions = models.ManyToManyField("org.Region", verbose_name=_("regions"), blank=True, related_name="+")
    pool_users = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name=_("explicit reps"), blank=True, related_name="+")
    match_lead_region = models.BooleanField(_("rep's region matches the lead's"), default=False)
    match_lead_product_line = models.BooleanField(_("rep sells the lead's product line"), default=False)
    match_lead_industry = models.BooleanField(_("rep covers the lead's industry"), default=False)
    min_years_experience = models.PositiveSmallIntegerField(_("at least years of experience"), null=True, blank=True)
    new_hires_only = models.BooleanField(_("new hires only"), default=False)
    strategy = models.CharField(_("strategy"), max_length=20, choices=Strategy.choices, default=Strategy.ROUND_ROBIN)
    min_close_rate = models.DecimalField(
        _("top performer: 7-day close rate above"), max_digits=4, decimal_places=3, null=True, blank=True,
        help_text=_("0.850 = 85 %; when nobody qualifies the best rate available wins."),
    )
    # Round-robin cursor: the user who took the last slot. Locked while routing through this rule.
    rr_last_user_id = models.BigIntegerField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")
        ordering = ["position", "id"]

    def __str__(self):
        return self.name

    def matches(self, lead: "Lead") -> bool:
        checks = (
            (self.budget_grades, lead.budget_grade), (self.industries, lead.industry), (self.regions, lead.region),
            (self.product_lines, lead.product_line), (self.channels, lead.channel), (self.tiers, lead.tier),
        )
        if any(allowed and value not in allowed for allowed, value in checks):
            return False
        if self.score_min is not None and lead.score < self.score_min:
            return False
        if self.score_max is not None and lead.score > self.score_max:
            return False
        return True


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


class RoutingDecision(models.Model):
    """One assignment decision with its basis: the routing log."""

    class Outcome(models.TextChoices):
        ASSIGNED = "assigned", _("Assigned")
        POOL = "pool", _("To the public pool")
        REASSIGNED = "reassigned", _("Reassigned")
        CLAIMED = "claimed", _("Claimed from the pool")
        RELEASED = "released", _("Released to the pool")

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="decisions", verbose_name=_("lead"))
    rule = models.ForeignKey(RoutingRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="decisions", verbose_name=_("rule"))
    rule_name = models.CharField(_("rule"), max_length=100, blank=True)
    strategy = models.CharField(_("strategy"), max_length=20, blank=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("assignee"))
    candidates = models.JSONField(_("candidates"), default=list, blank=True)
    score_breakdown = models.JSONField(default=dict, blank=True, verbose_name=_("score breakdown"))
    reason = models.TextField(_("reason"), blank=True)
    reason_message = models.JSONField(_("reason"), default=dict, blank=True)
    actor_label = models.CharField(max_length=150, blank=True, verbose_name=_("actor label"))
    decided_at = models.DateTimeField(_("decided at"), default=timezone.now)
    # Decisions routed in constant work keep only what is specific to the lead in `candidates`
    # (chosen, skipped for a reason); the full list is rebuilt from this roster and basis.
    roster_version = models.ForeignKey(
        "RosterVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    pool_basis = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("routing decision")
        verbose_name_plural = _("routing log")
        ordering = ["-decided_at", "-id"]
        indexes = [models.Index(fields=["-decided_at"], name="leads_decision_at_idx")]

    def __str__(self):
        return f"{self.get_outcome_display()} · {self.lead_id} · {self.decided_at:%Y-%m-%d %H:%M}"

    @property
    def reason_text(self) -> str:
        return render(self.reason_message, fallback=self.reason)


class PoolClaim(models.Model):
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="claims", verbose_name=_("lead"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("user"))
    claimed_at = models.DateTimeField(default=timezone.now, verbose_name=_("claimed at"))
    released_at = models.DateTimeField(null=True, blank=True, verbose_name=_("released at"))
    release_reason = models.JSONField(default=dict, blank=True, verbose_name=_("release reason"))  # a stored message

    class Meta:
        verbose_name = _("pool claim")
        verbose_name_plural = _("pool claims")
        ordering = ["-claimed_at"]
        indexes = [models.Index(fields=["lead", "user"], name="leads_claim_lead_user_idx")]

    def __str__(self):
        return f"{self.lead_id} · {self.user_id} · {self.claimed_at:%Y-%m-%d %H:%M}"

    @property
    def release_reason_text(self) -> str:
        return render(self.release_reason)


class IdempotencyRecord(models.Model):
    intake_key = models.ForeignKey(IntakeKey, on_delete=models.CASCADE, related_name="+", verbose_name=_("intake key"))
    key = models.CharField(max_length=200, verbose_name=_("key"))
    body_hash = models.CharField(max_length=64, verbose_name=_("body hash"))
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="+", verbose_name=_("lead"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [models.UniqueConstraint(fields=["intake_key", "key"], name="leads_idempotency_once")]

    def __str__(self):
        return f"{self.key} → {self.lead_id}"


class ImportJob(models.Model):
    class Status(models.TextChoices):
        PREVIEW = "preview", _("Waiting for column mapping")
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    file = models.FileField(_("CSV file"), upload_to="lead-imports/")
    mapping = models.JSONField(_("column mapping"), default=dict, blank=True)
    encoding = models.CharField(_("encoding"), max_length=32, blank=True, help_text=_("As detected when the file was read."))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PREVIEW)
    total_rows = models.PositiveIntegerField(default=0, verbose_name=_("total rows"))
    processed_rows = models.PositiveIntegerField(default=0, verbose_name=_("processed rows"))
    created_leads = models.PositiveIntegerField(default=0, verbose_name=_("created leads"))
    duplicate_rows = models.PositiveIntegerField(default=0, verbose_name=_("duplicate rows"))
    errors = models.JSONField(default=list, blank=True, verbose_name=_("errors"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("created by"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))

    class Meta:
        verbose_name = _("lead import")
        verbose_name_plural = _("lead imports")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.file.name} ({self.get_status_display()})"

    @property
    def percent(self) -> int:
        return int(100 * self.processed_rows / self.total_rows) if self.total_rows else 0


class RepLoad(models.Model):
    """Open leads per rep, kept by the lead services so capacity is checked with one guarded UPDATE.

    `UPDATE … SET open_count = open_count + 1 WHERE open_count < capacity` decides a slot
    atomically under concurrent intake; counting leads would need a lock per rep instead.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, primary_key=True, on_delete=models.CASCADE, related_name="+", verbose_name=_("user"))
    open_count = models.IntegerField(default=0, verbose_name=_("open leads"))

    class Meta:
        verbose_name = _("rep load")
        verbose_name_plural = _("rep loads")
        constraints = [models.CheckConstraint(condition=models.Q(open_count__gte=0), name="leads_load_not_negative")]

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
