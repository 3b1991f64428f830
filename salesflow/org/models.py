import datetime as dt
import re
import zoneinfo
from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

WEEKDAY_CHOICES = [
    (0, _("Monday")), (1, _("Tuesday")), (2, _("Wednesday")), (3, _("Thursday")),
    (4, _("Friday")), (5, _("Saturday")), (6, _("Sunday")),
]


def validate_time_zone(value: str):
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(value)s is not a known time zone."), params={"value": value})


# A CSP source naming one site: scheme, host (a leading "*." for its subdomains), optional port.
_ORIGIN = re.compile(r"^https?://(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d{1,5})?$")


def origin_lines(value: str) -> list[str]:
    return [line.strip().lower().rstrip("/") for line in value.splitlines() if line.strip()]


def validate_origins(value: str):
    bad = [line for line in origin_lines(value) if not _ORIGIN.match(line)]
    if bad:
        raise ValidationError(
            _("Not a site origin (like https://www.example.com): %(lines)s"), params={"lines": ", ".join(bad)}
        )


class TenantSettings(models.Model):
    """The tenant's own settings: one row per schema (pk=1)."""

    display_name = models.CharField(_("display name"), max_length=200)
    time_zone = models.CharField(_("time zone"), max_length=64, default="Asia/Shanghai", validators=[validate_time_zone])
    default_language = models.CharField(_("default language"), max_length=10, choices=settings.LANGUAGES, default="zh-hans")
    weekend_days = ArrayField(
        models.PositiveSmallIntegerField(choices=WEEKDAY_CHOICES),
        verbose_name=_("weekend days"),
        default=list,
        blank=True,
        help_text=_("0 = Monday … 6 = Sunday"),
    )
    new_hire_days = models.PositiveIntegerField(
        _("new-hire period (days)"), default=180, help_text=_("Reps hired within this many days count as new hires.")
    )
    intake_rate_limit = models.PositiveIntegerField(
        _("intake rate limit (requests per minute per key)"), default=6000
    )
    web_form_embed_origins = models.TextField(
        _("sites that may embed the web form"), blank=True, default="", validators=[validate_origins],
        help_text=_("One origin per line, e.g. https://www.example.com or https://*.example.com. Empty: no other site may show the form in a frame."),  # noqa: E501
    )

    # Action health: what "healthy" means for this tenant (audit/health), defaults from the seeds.
    health_density_min = models.DecimalField(
        _("healthy touch density (touches per customer per month, at least)"), max_digits=5, decimal_places=2,
        default=Decimal("4.2"), validators=[MinValueValidator(Decimal("0"))],
    )
    health_depth_min = models.DecimalField(
        _("healthy key-person depth (percent of open opportunities, at least)"), max_digits=5, decimal_places=1,
        default=Decimal("78"), validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    health_first_touch_hours_max = models.DecimalField(
        _("healthy first-touch time (median hours, at most)"), max_digits=6, decimal_places=2,
        default=Decimal("3.7"), validators=[MinValueValidator(Decimal("0.01"))],
    )

    class Meta:
        verbose_name = _("tenant settings")
        verbose_name_plural = _("tenant settings")

    def __str__(self):
        return self.display_name

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    @property
    def embed_origins(self) -> list[str]:
        return origin_lines(self.web_form_embed_origins)


class Holiday(models.Model):
    """A non-working day in the tenant's calendar (public holiday, company day off)."""

    date = models.DateField(_("date"), unique=True)
    name = models.CharField(_("name"), max_length=100)
    # A weekend day worked in lieu (调休) counts as a working day.
    is_workday = models.BooleanField(_("working day in lieu"), default=False)

    class Meta:
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        ordering = ["date"]

    def __str__(self):
        return f"{self.date} {self.name}"


class Region(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent region"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    director = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("regional director"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="directed_regions",
    )

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Team(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="teams")
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("manager"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_teams",
    )

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["region__name", "name"]

    def __str__(self):
        return self.name


class Role(models.TextChoices):
    ADMIN = "admin", _("Tenant admin")
    MANAGER = "manager", _("Manager")
    REP = "rep", _("Sales rep")
    FINANCE = "finance", _("Finance")


class Availability(models.TextChoices):
    AVAILABLE = "available", _("Available")
    ON_LEAVE = "on_leave", _("On leave")
    UNAVAILABLE = "unavailable", _("Unavailable")


class Member(models.Model):
    """A person of the tenant's sales organisation, with what routing needs to know."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="member")
    full_name = models.CharField(_("full name"), max_length=150)
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.REP)
    team = models.ForeignKey(
        Team, verbose_name=_("team"), null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    region = models.ForeignKey(
        Region, verbose_name=_("region"), null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    industries = ArrayField(models.CharField(max_length=64), verbose_name=_("industries"), default=list, blank=True)
    product_lines = ArrayField(
        models.CharField(max_length=64), verbose_name=_("product lines"), default=list, blank=True
    )
    years_experience = models.PositiveSmallIntegerField(_("years of experience"), default=0)
    hire_date = models.DateField(_("hire date"), null=True, blank=True)
    capacity = models.PositiveIntegerField(_("capacity (max open leads)"), default=50)
    availability = models.CharField(
        _("availability"), max_length=16, choices=Availability.choices, default=Availability.AVAILABLE
    )
    away_from = models.DateField(_("away from"), null=True, blank=True)
    away_until = models.DateField(_("away until"), null=True, blank=True)
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, blank=True,
        help_text=_("The language of this person's pages, e-mails and messages; empty: the tenant's default."),
    )

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        ordering = ["full_name"]
        indexes = [models.Index(fields=["role", "team"], name="org_member_role_team_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(away_until__isnull=True)
                | models.Q(away_from__isnull=True)
                | models.Q(away_until__gte=models.F("away_from")),
                name="org_member_away_range_ordered",
            )
        ]

    def __str__(self):
        return self.full_name

    def clean(self):
        if self.away_from and self.away_until and self.away_until < self.away_from:
            raise ValidationError({"away_until": _("The end of an absence cannot come before its start.")})

    def is_new_hire(self, *, new_hire_days: int, today: dt.date | None = None) -> bool:
        return hired_recently(self.hire_date, today=today or timezone.localdate(), new_hire_days=new_hire_days)

    def is_available_on(self, day: dt.date) -> bool:
        return available_on(day, availability=self.availability, away_from=self.away_from, away_until=self.away_until)


def hired_recently(hire_date: dt.date | None, *, today: dt.date, new_hire_days: int) -> bool:
    return hire_date is not None and (today - hire_date).days <= new_hire_days


def available_on(day: dt.date, *, availability: str, away_from: dt.date | None, away_until: dt.date | None) -> bool:
    """Available unless marked away and `day` falls inside the absence (open ends count)."""
    if availability == Availability.AVAILABLE:
        return True
    return not ((away_from or dt.date.min) <= day <= (away_until or dt.date.max))


class VocabularyKind(models.TextChoices):
    REGION = "region", _("Region")
    INDUSTRY = "industry", _("Industry")
    PRODUCT_LINE = "product_line", _("Product line")
    TIER = "tier", _("Customer tier")
    CHANNEL = "channel", _("Channel")


# The longest code each kind may have: the column the value ends up in (leads, rules, reps).
VOCABULARY_CODE_LENGTH = {
    VocabularyKind.REGION: 100, VocabularyKind.INDUSTRY: 64, VocabularyKind.PRODUCT_LINE: 64,
    VocabularyKind.TIER: 32, VocabularyKind.CHANNEL: 20,
}


class VocabularyEntry(models.Model):
    """One value of a tenant-managed list (a region, an industry, …): the code records store,
    its label in each language and the other spellings people and machines send for it."""

    kind = models.CharField(_("list"), max_length=16, choices=VocabularyKind.choices)
    code = models.CharField(
        _("code"), max_length=100, help_text=_("What records store; keep it once records use it.")
    )
    label_zh = models.CharField(_("Chinese label"), max_length=100)
    label_en = models.CharField(_("English label"), max_length=100)
    synonyms = ArrayField(
        models.CharField(max_length=100), verbose_name=_("synonyms"), default=list, blank=True,
        help_text=_("Other spellings that mean this value, separated by commas (e.g. 华东, East China)."),
    )
    position = models.PositiveIntegerField(_("order"), default=100)
    active = models.BooleanField(
        _("active"), default=True, help_text=_("Inactive values are no longer offered or accepted; records keep them.")
    )

    class Meta:
        verbose_name = _("vocabulary value")
        verbose_name_plural = _("vocabularies")
        ordering = ["kind", "position", "code"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "code"], name="org_vocabulary_kind_code_unique"),
            models.CheckConstraint(condition=~models.Q(code=""), name="org_vocabulary_code_not_blank"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.code}"

    def spellings(self) -> list[str]:
        """Every text that resolves to this value."""
        return [self.code, self.label_zh, self.label_en, *self.synonyms]


class MembershipPeriod(models.Model):
    """Who was in which team and region from when: a row each time a member's team or region, or their team's
    region, changes (written by `salesflow.org.history` on every save, whichever path made it). A past forecast
    snapshot rolls its lines up under the team and region of the owner as of the snapshot
    (`history.MEMBERSHIP_AS_OF_CTE`), not as of today."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+",
                             verbose_name=_("user"))
    team = models.ForeignKey(Team, verbose_name=_("team"), null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    region = models.ForeignKey(Region, verbose_name=_("region"), null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")
    valid_from = models.DateTimeField(_("valid from"))

    class Meta:
        verbose_name = _("team and region membership")
        verbose_name_plural = _("team and region memberships")
        ordering = ["user_id", "valid_from", "id"]
        indexes = [models.Index(fields=["user", "valid_from"], name="org_membership_user_from_idx")]

    def __str__(self):
        return f"{self.user_id} {self.team_id}/{self.region_id} ≥ {self.valid_from:%Y-%m-%d}"
