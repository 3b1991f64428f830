"""Accounts, decision chains, opportunities, follow-ups and the SLA engine's own state.

Traffic lights, the stagnation flag and the clocks they derive from are stored on the
opportunity (and rolled up to the account) by the SLA scan, so boards read columns
instead of recomputing per request.
"""
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from salesflow.search import search_document_field, search_owners_field


def _bilingual(zh: str, en: str) -> str:
    """The text in the active language: zh-hans rows fall back to English and back."""
    if (get_language() or "").startswith("zh"):
        return zh or en
    return en or zh


class Light(models.IntegerChoices):
    NONE = 0, _("closed")
    GREEN = 1, _("on schedule")
    YELLOW = 2, _("late")
    RED = 3, _("very late")


class Outcome(models.TextChoices):
    OPEN = "open", _("open")
    WON = "won", _("won")
    LOST = "lost", _("lost")


class Stage(models.Model):
    """One step of the tenant's pipeline; ordered, editable in admin."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=80)
    name_en = models.CharField(_("name (English)"), max_length=80)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    outcome = models.CharField(_("outcome"), max_length=8, choices=Outcome.choices, default=Outcome.OPEN)
    probability = models.PositiveSmallIntegerField(
        _("win probability %"), default=10, validators=[MaxValueValidator(100)]
    )
    entry_min_credit = models.PositiveSmallIntegerField(
        _("credit needed to enter"), default=0, validators=[MaxValueValidator(1000)],
        help_text=_("Stage gate: an opportunity moves forward into this stage only with at least this credit score."),
    )

    class Meta:
        verbose_name = _("pipeline stage")
        verbose_name_plural = _("pipeline stages")
        ordering = ["position", "id"]

    def __str__(self):
        return self.name

    @property
    def name(self) -> str:
        return _bilingual(self.name_zh, self.name_en)

    @property
    def is_open(self) -> bool:
        return self.outcome == Outcome.OPEN


class ActionKey(models.TextChoices):
    """What a follow-up counts towards in a stage's action pack."""

    TOUCH = "touch", _("touch")
    NEEDS_DIAGNOSIS = "needs_diagnosis", _("needs diagnosis")
    PROPOSAL = "proposal", _("tailored proposal")
    DEMO = "demo", _("solution demo")
    CASE_MATERIAL = "case_material", _("case material sent")
    POC = "poc", _("POC / trial")
    QUOTE = "quote", _("quote")
    TENDER = "tender", _("tender documents")
    DECISION_CHAIN = "decision_chain", _("decision chain mapped")
    CONTRACT = "contract", _("contract")
    LEGAL_REVIEW = "legal_review", _("legal pre-review passed")


class StageRequirement(models.Model):
    """A stage's action pack line: `count` follow-ups counting as `action` while in the stage."""

    stage = models.ForeignKey(Stage, on_delete=models.CASCADE, related_name="requirements", verbose_name=_("stage"))
    action = models.CharField(_("action"), max_length=32, choices=ActionKey.choices)
    count = models.PositiveSmallIntegerField(_("required count"), default=1, validators=[MinValueValidator(1)])
    required_to_advance = models.BooleanField(
        _("required before moving on"), default=False,
        help_text=_("Stage gate: the opportunity may not move forward out of this stage until these follow-ups are logged."),
    )

    class Meta:
        verbose_name = _("required action")
        verbose_name_plural = _("required actions")
        constraints = [models.UniqueConstraint(fields=["stage", "action"], name="followups_requirement_once")]

    def __str__(self):
        return f"{self.stage}: {self.count} × {self.get_action_display()}"


class StageReminder(models.Model):
    """A timed reminder: on entering `stage`, a task for the owner due `offset_hours` later."""

    stage = models.ForeignKey(Stage, on_delete=models.CASCADE, related_name="reminders", verbose_name=_("stage"))
    offset_hours = models.PositiveIntegerField(_("hours after entering"))
    title_zh = models.CharField(_("title (Chinese)"), max_length=120)
    title_en = models.CharField(_("title (English)"), max_length=120)

    class Meta:
        verbose_name = _("stage reminder")
        verbose_name_plural = _("stage reminders")
        ordering = ["stage__position", "offset_hours"]

    def __str__(self):
        return f"{self.stage} +{self.offset_hours}h {self.title}"

    @property
    def title(self) -> str:
        return _bilingual(self.title_zh, self.title_en)


class SlaPolicy(models.Model):
    """The tenant's SLA settings (pk=1), edited in admin, every change audited."""

    first_touch_hours = models.PositiveIntegerField(_("first touch of a high-value lead within (hours)"), default=24)
    high_value_amount = models.DecimalField(
        _("high-value threshold (amount)"), max_digits=14, decimal_places=2, default=500000
    )
    cadence_days = ArrayField(
        models.PositiveSmallIntegerField(), verbose_name=_("high-value cadence (days after first contact)"),
        default=list, help_text=_("e.g. 3, 7, 14"),
    )
    standard_cadence_days = models.PositiveSmallIntegerField(
        _("touch every (days) otherwise"), default=14, validators=[MinValueValidator(1)]
    )
    golden_hours = models.PositiveSmallIntegerField(_("golden window (hours without an update)"), default=48)
    yellow_after_days = models.PositiveSmallIntegerField(_("yellow from (days late)"), default=1)
    red_after_days = models.PositiveSmallIntegerField(_("red beyond (days late)"), default=3)
    stagnation_working_days = models.PositiveSmallIntegerField(
        _("stagnant beyond (working days in a stage without update)"), default=5
    )

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policy")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(red_after_days__gte=models.F("yellow_after_days")),
                name="followups_sla_red_after_yellow",
            )
        ]

    def __str__(self):
        return str(_("SLA policy"))

    def clean(self):
        if self.red_after_days < self.yellow_after_days:
            raise ValidationError({"red_after_days": _("Red cannot start before yellow.")})
        if sorted(self.cadence_days) != list(self.cadence_days):
            raise ValidationError({"cadence_days": _("List the cadence days in increasing order.")})


class Account(models.Model):
    """A customer organisation."""

    name = models.CharField(_("name"), max_length=200)
    industry = models.CharField(_("industry"), max_length=64, blank=True)
    region = models.CharField(_("region"), max_length=64, blank=True)
    tier = models.CharField(_("customer tier"), max_length=64, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="accounts", verbose_name=_("owner")
    )
    source_lead_id = models.BigIntegerField(_("converted from lead"), null=True, blank=True, unique=True)
    light = models.PositiveSmallIntegerField(_("traffic light"), choices=Light.choices, default=Light.NONE)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    search_document = search_document_field("name")
    search_owners = search_owners_field()

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        ordering = ["name"]
        indexes = [
            models.Index(fields=["owner", "light"], name="followups_account_owner_light"),
            GinIndex(fields=["search_document", "search_owners"], name="followups_account_search"),
        ]

    def __str__(self):
        return self.name


class ContactRole(models.TextChoices):
    CIO = "cio", _("CIO")
    PURCHASING = "purchasing", _("purchasing director")
    ENGINEER = "engineer", _("technical engineer")
    FINANCE = "finance", _("finance")
    END_USER = "end_user", _("end user")
    OTHER = "other", _("other")


class Contact(models.Model):
    """A person on the customer's side; together an account's contacts form its decision chain."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="contacts", verbose_name=_("account"))
    name = models.CharField(_("name"), max_length=100)
    title = models.CharField(_("job title"), max_length=100, blank=True)
    role = models.CharField(_("decision role"), max_length=16, choices=ContactRole.choices, default=ContactRole.OTHER)
    is_key_person = models.BooleanField(_("key person"), default=False)
    influence = models.PositiveSmallIntegerField(
        _("influence (1–5)"), default=3, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    search_document = search_document_field("name", "phone")
    search_owners = search_owners_field()  # the account's, copied by a trigger

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["-is_key_person", "-influence", "name"]
        indexes = [GinIndex(fields=["search_document", "search_owners"], name="followups_contact_search")]

    def __str__(self):
        return f"{self.name} ({self.get_role_display()})"


class Opportunity(models.Model):
    """商机: an amount the owner is working towards, moving through the pipeline."""

    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="opportunities", verbose_name=_("account")
    )
    name = models.CharField(_("name"), max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="opportunities", verbose_name=_("owner")
    )
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="opportunities", verbose_name=_("stage"))
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2, default=0)
    expected_close = models.DateField(_("expected close"), null=True, blank=True)
    product_line = models.CharField(_("product line"), max_length=64, blank=True)
    lost_reason = models.CharField(_("lost reason"), max_length=200, blank=True)
    source_lead_id = models.BigIntegerField(_("converted from lead"), null=True, blank=True)
    first_touch_at = models.DateTimeField(_("first touch"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    # Clocks and derived state, maintained by services and the SLA scan.
    is_open = models.BooleanField(default=True, verbose_name=_("open"))
    stage_entered_at = models.DateTimeField(_("in stage since"), default=timezone.now)
    last_activity_at = models.DateTimeField(_("last update"), default=timezone.now)
    next_due_at = models.DateTimeField(_("next touch due"), null=True, blank=True)
    light = models.PositiveSmallIntegerField(_("traffic light"), choices=Light.choices, default=Light.GREEN)
    light_changed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("light changed at"))
    is_stagnant = models.BooleanField(_("stagnant"), default=False)
    credit_score = models.IntegerField(
        _("credit score"), default=0,
        help_text=_("Sum of the accepted evidence points; kept in the same transaction as every evidence change."),
    )

    class Meta:
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        ordering = ["-light", "next_due_at"]
        indexes = [
            # The board: open work, worst light first, then most overdue.
            models.Index(
                fields=["-light", "next_due_at"], name="followups_opp_board", condition=models.Q(is_open=True)
            ),
            models.Index(fields=["owner", "-light", "next_due_at"], name="followups_opp_owner_board"),
            # Board counts by light: answered from this index alone (index-only scan).
            models.Index(
                fields=["owner", "light", "is_stagnant"], name="followups_opp_open_counts",
                condition=models.Q(is_open=True),
            ),
            # The golden-48h scan: open opportunities by their last update.
            models.Index(fields=["last_activity_at"], name="followups_opp_silence", condition=models.Q(is_open=True)),
            models.Index(fields=["account"], name="followups_opp_account"),
            # The pipeline: per-stage sums from the index alone, and each column's biggest deals first.
            models.Index(
                fields=["stage", "owner"], include=["amount"], name="followups_opp_pipeline_sums",
                condition=models.Q(is_open=True),
            ),
            models.Index(
                fields=["stage", "-amount", "id"], name="followups_opp_pipeline_cards", condition=models.Q(is_open=True)
            ),
        ]

    def __str__(self):
        return self.name


class StageChange(models.Model):
    """Who moved an opportunity, when, from which stage to which, and from where."""

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="stage_changes", verbose_name=_("opportunity"))
    from_stage = models.ForeignKey(Stage, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("from stage"))
    to_stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+", verbose_name=_("to stage"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("actor"))
    actor_label = models.CharField(max_length=150, verbose_name=_("actor label"))
    at = models.DateTimeField(default=timezone.now, verbose_name=_("at"))
    via = models.CharField(_("from where"), max_length=32, help_text=_("web, mobile, conversion, admin …"))
    ip = models.GenericIPAddressField(null=True, blank=True, verbose_name=_("IP address"))
    reason = models.CharField(max_length=200, blank=True, verbose_name=_("reason"))

    class Meta:
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["opportunity", "-at"], name="followups_stagechange_opp"),
            # The moves into a stage over a span of time, with their deal, from the index alone (the
            # forecast accuracy page's won amounts per day since its first scored week).
            models.Index(fields=["to_stage", "at"], include=["opportunity"], name="followups_stagechange_to_at"),
        ]

    def __str__(self):
        return f"{self.opportunity_id}: {self.from_stage_id or '—'} → {self.to_stage_id} · {self.at:%Y-%m-%d %H:%M}"


class FollowUpKind(models.TextChoices):
    CALL = "call", _("call")
    WECHAT = "wechat", _("WeChat / WeCom")
    VISIT = "visit", _("visit")
    EMAIL = "email", _("e-mail")
    MEETING = "meeting", _("meeting")


class LocationStatus(models.TextChoices):
    GIVEN = "given", _("located")
    REFUSED = "refused", _("location refused")
    UNAVAILABLE = "unavailable", _("location unavailable")
    NOT_ASKED = "", _("not asked")


class ActionTemplate(models.Model):
    """A one-tap follow-up: fills kind, summary, action-pack credit and the next step."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    title_zh = models.CharField(_("title (Chinese)"), max_length=80)
    title_en = models.CharField(_("title (English)"), max_length=80)
    summary_zh = models.CharField(_("summary (Chinese)"), max_length=300)
    summary_en = models.CharField(_("summary (English)"), max_length=300)
    kind = models.CharField(_("kind"), max_length=16, choices=FollowUpKind.choices, default=FollowUpKind.CALL)
    action = models.CharField(_("counts as"), max_length=32, choices=ActionKey.choices, default=ActionKey.TOUCH)
    next_step_zh = models.CharField(_("next step (Chinese)"), max_length=200, blank=True)
    next_step_en = models.CharField(_("next step (English)"), max_length=200, blank=True)
    next_step_days = models.PositiveSmallIntegerField(_("next step due in (days)"), null=True, blank=True)
    is_visit_outcome = models.BooleanField(_("offered after a visit"), default=False)
    active = models.BooleanField(_("active"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("action template")
        verbose_name_plural = _("action templates")
        ordering = ["position", "id"]

    def __str__(self):
        return self.title

    @property
    def title(self) -> str:
        return _bilingual(self.title_zh, self.title_en)

    @property
    def summary(self) -> str:
        return _bilingual(self.summary_zh, self.summary_en)

    @property
    def next_step(self) -> str:
        return _bilingual(self.next_step_zh, self.next_step_en)


class FollowUp(models.Model):
    """One logged touch. Append-only (a database trigger refuses UPDATE/DELETE): a
    correction is a new record pointing at the one it corrects."""

    opportunity = models.ForeignKey(Opportunity, on_delete=models.PROTECT, related_name="followups", verbose_name=_("opportunity"))
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="followups", verbose_name=_("account"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="followups", verbose_name=_("author"))
    kind = models.CharField(_("kind"), max_length=16, choices=FollowUpKind.choices)
    action = models.CharField(_("counts as"), max_length=32, choices=ActionKey.choices, default=ActionKey.TOUCH)
    template = models.ForeignKey(ActionTemplate, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("template"))
    summary = models.TextField(_("summary"))
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    logged_at = models.DateTimeField(default=timezone.now, verbose_name=_("logged at"))
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+", verbose_name=_("stage"))
    next_step = models.CharField(_("next step"), max_length=200, blank=True)
    next_step_due_at = models.DateTimeField(_("next step due"), null=True, blank=True)
    contacts = models.ManyToManyField(Contact, blank=True, related_name="followups", verbose_name=_("contacts touched"))
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True, verbose_name=_("latitude"))
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True, verbose_name=_("longitude"))
    location_accuracy_m = models.PositiveIntegerField(null=True, blank=True, verbose_name=_("location accuracy (m)"))
    location_status = models.CharField(max_length=16, choices=LocationStatus.choices, blank=True, default="", verbose_name=_("location status"))
    corrects = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrections", verbose_name=_("corrects")
    )

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["opportunity", "-occurred_at"], name="followups_fu_opp_recent"),
            models.Index(fields=["account", "-occurred_at"], name="followups_fu_account_recent"),
            models.Index(fields=["author", "-occurred_at"], name="followups_fu_author_recent"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.occurred_at:%Y-%m-%d}: {self.summary[:40]}"


def attachment_path(instance, filename: str) -> str:
    # TenantFileSystemStorage already puts everything under MEDIA_ROOT/<schema>/.
    now = timezone.now()
    return f"followups/{now:%Y/%m}/{filename}"


class Attachment(models.Model):
    """Evidence for a follow-up; served only through the access-checked download view."""

    followup = models.ForeignKey(FollowUp, on_delete=models.PROTECT, related_name="attachments", verbose_name=_("followup"))
    file = models.FileField(upload_to=attachment_path, max_length=300, verbose_name=_("file"))
    original_name = models.CharField(max_length=200, verbose_name=_("original name"))
    content_type = models.CharField(max_length=100, verbose_name=_("content type"))
    size = models.PositiveBigIntegerField(verbose_name=_("size"))
    uploaded_at = models.DateTimeField(default=timezone.now, verbose_name=_("uploaded at"))

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self):
        return self.original_name


class Task(models.Model):
    """A reminder that became a task for the opportunity's owner."""

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="tasks", verbose_name=_("opportunity"))
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="followup_tasks", verbose_name=_("assignee"))
    reminder = models.ForeignKey(StageReminder, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("reminder"))
    stage_change = models.ForeignKey(StageChange, null=True, blank=True, on_delete=models.CASCADE, related_name="tasks", verbose_name=_("stage change"))
    title = models.CharField(_("title"), max_length=200)
    due_at = models.DateTimeField(_("due"))
    done_at = models.DateTimeField(_("done"), null=True, blank=True)

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["due_at"]
        indexes = [
            models.Index(fields=["assignee", "due_at"], name="followups_task_open", condition=models.Q(done_at__isnull=True))
        ]
        constraints = [
            models.UniqueConstraint(fields=["stage_change", "reminder"], name="followups_task_once_per_entry")
        ]

    def __str__(self):
        return self.title


class AlertKind(models.TextChoices):
    GOLDEN = "golden48", _("no update in the golden window")
    RED = "red", _("traffic light turned red")
    STAGNANT = "stagnant", _("stagnant in stage")
    REMINDER = "reminder", _("reminder due")
    FIRST_TOUCH = "first_touch", _("high-value lead not touched in time")


class SlaAlert(models.Model):
    """One alert, claimed before anything is sent: unique on (kind, object, lapse).

    The scan inserts these with INSERT … ON CONFLICT DO NOTHING RETURNING, so of two
    scans racing at the same clock exactly one gets each row and only it notifies.
    """

    kind = models.CharField(max_length=16, choices=AlertKind.choices, verbose_name=_("kind"))
    object_id = models.BigIntegerField(verbose_name=_("object id"))
    lapse = models.DateTimeField(help_text="the clock value the lapse started from", verbose_name=_("lapse"))
    # Null for lead alerts (first touch): the lead has no opportunity yet; object_id is its id.
    opportunity = models.ForeignKey(Opportunity, null=True, blank=True, on_delete=models.CASCADE, related_name="alerts", verbose_name=_("opportunity"))
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("owner"))
    raised_at = models.DateTimeField(verbose_name=_("raised at"))

    class Meta:
        verbose_name = _("SLA alert")
        verbose_name_plural = _("SLA alerts")
        ordering = ["-raised_at"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "object_id", "lapse"], name="followups_alert_once_per_lapse")
        ]
        indexes = [models.Index(fields=["owner", "-raised_at"], name="followups_alert_owner")]

    @property
    def event_key(self) -> str:
        return f"sla:{self.kind}:{self.object_id}:{self.lapse.isoformat()}"

    def __str__(self):
        return f"{self.get_kind_display()} · {self.object_id} · {self.raised_at:%Y-%m-%d %H:%M}"


from .models_history import RecordChange, RecordKind  # noqa: E402,F401  (models of this app live in two modules)
from .models_pipeline import PipelineTotal  # noqa: E402,F401
from .models_closed import ClosedDeal  # noqa: E402,F401
