from pathlib import Path

import dj_database_url
from celery.schedules import crontab

from salesflow.env import env_bool, env_float, env_int, env_list, env_networks, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent

SECRET_KEY = env_str("SECRET_KEY")
# Seals each tenant's audit checkpoint signing key at rest (audit/checkpoints/keys.py).
# Changing it makes the stored keys unreadable: set it once, keep it with SECRET_KEY.
SALESFLOW_AUDIT_KEY_SECRET = env_str("SALESFLOW_AUDIT_KEY_SECRET", SECRET_KEY)
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [])

SHARED_APPS = [
    "django_tenants",
    "salesflow.tenancy",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.admin",
    "django.contrib.staticfiles",
    "django_htmx",
    "django.contrib.postgres",
    "django_filters",
    "salesflow",
]
# Auth, sessions and admin live in every tenant schema too: a tenant's users and
# sessions exist only in its own schema, so a cookie from one host means nothing on another.
TENANT_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.admin",
    "audit",
    "salesflow.org",
    "salesflow.notifications",
    "leads",
    "followups",
    "forecasting",
]
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenancy.Tenant"
TENANT_DOMAIN_MODEL = "tenancy.Domain"
TENANT_BASE_SCHEMA = "tenant_template"
TENANT_CREATION_FAKES_MIGRATIONS = True
PUBLIC_SCHEMA_URLCONF = "salesflow.urls_public"
ROOT_URLCONF = "salesflow.urls_tenants"
SHOW_PUBLIC_IF_NO_TENANT_FOUND = False
TENANT_LIMIT_SET_CALLS = True

MIDDLEWARE = [
    "salesflow.csp.ContentSecurityPolicyMiddleware",  # outermost: every response carries the policy
    "salesflow.health.HealthCheckMiddleware",
    "salesflow.tenancy.middleware.CachedTenantMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "salesflow.middleware.TenantContextMiddleware",
    "salesflow.middleware.MachineApiMiddleware",  # the key-authenticated API: none of the browser middlewares below
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "salesflow.middleware.MemberLanguageMiddleware",
    "salesflow.navigation.RolePagesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "salesflow.context_processors.shell",
            ],
        },
    }
]

WSGI_APPLICATION = "salesflow.wsgi.application"

DATABASES = {
    "default": {
        **dj_database_url.parse(env_str("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/salesflow")),
        "ENGINE": "salesflow.db_backend",  # django-tenants' backend, cheaper health check
        # Bounded: every backend caches catalog entries for each tenant table it touches.
        "CONN_MAX_AGE": env_int("CONN_MAX_AGE", 300),
        "CONN_HEALTH_CHECKS": True,
        # Parameters bound by the server and statements prepared after five runs: the intake path
        # repeats the same dozen statements, and PostgreSQL re-plans them when search_path changes.
        "OPTIONS": {"server_side_binding": True, "prepare_threshold": 5},
    }
}
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        # Per database: two installations sharing one Redis (developers' checkouts) never read
        # each other's remembered configuration for a tenant schema of the same name.
        "KEY_PREFIX": f"sf-{DATABASES['default']['NAME']}",
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
}

SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "salesflow.views.csrf_failure"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# Only these hosts' X-Forwarded-For is believed (salesflow.clientip): the reverse proxy in
# front of the app, e.g. TRUSTED_PROXIES=10.0.0.0/8. Empty: REMOTE_ADDR is the client.
TRUSTED_PROXIES = env_networks("TRUSTED_PROXIES", [])
# Abuse limits (salesflow.ratelimit). The public web form: per client address per minute; the
# tenant's whole form is also held to its intake rate limit. Sign-in: failed attempts per
# account and per address within a window; once reached, even the right password waits.
WEB_FORM_POSTS_PER_ADDRESS = env_int("WEB_FORM_POSTS_PER_ADDRESS", 10)
SIGNIN_FAILURES_PER_ACCOUNT = env_int("SIGNIN_FAILURES_PER_ACCOUNT", 10)
SIGNIN_FAILURES_PER_ADDRESS = env_int("SIGNIN_FAILURES_PER_ADDRESS", 50)
SIGNIN_WINDOW_SECONDS = env_int("SIGNIN_WINDOW_SECONDS", 900)

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / ".data" / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / ".data" / "media")))
MEDIA_URL = "/media/"
# Uploaded files land under MEDIA_ROOT/<schema>/: no tenant can read another's files.
MULTITENANT_RELATIVE_MEDIA_ROOT = "%s"
STORAGES = {
    "default": {"BACKEND": "django_tenants.files.storage.TenantFileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A message not acknowledged within this time goes to another worker (a worker killed with
# kill -9 loses its unacknowledged messages until then). It must exceed the longest task plus
# any countdown a message waits: deliveries are hard-limited to 60 s, per-tenant fan-out
# countdowns stay under a few minutes, and every task is idempotent, so a redelivery of a
# still-running scan or import is harmless. No task retries itself with a countdown.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 900),
    "socket_connect_timeout": 2,
    "socket_timeout": 10,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Workers keep reconnecting while Redis is away (the default gives up after 100 tries).
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# What a request or a scan queues goes through salesflow.broker (short timeout, breaker),
# never through a publish that waits; its record stays in the database for the sweeps.
SALESFLOW_BROKER_KICK_TIMEOUT = env_float("SALESFLOW_BROKER_KICK_TIMEOUT", 0.1)
SALESFLOW_BROKER_BREAKER_SECONDS = env_float("SALESFLOW_BROKER_BREAKER_SECONDS", 30.0)
CELERY_TIMEZONE = "UTC"
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE", "salesflow")
CELERY_TASK_ALWAYS_EAGER = False
# The whole beat schedule lives here; per-tenant work is fanned out by one dispatcher task.
CELERY_BEAT_SCHEDULE = {
    # Monday 00:00 tenant time: the first run in a tenant's new ISO week freezes its forecast.
    "forecast-weekly-snapshot": {
        "task": "salesflow.tenancy.tasks.fan_out_to_tenants",
        "schedule": crontab(minute=1),
        "args": ("forecasting.tasks_forecast.forecast_snapshot_task", 0.2),
    },
    "forecast-below-committed-alerts": {
        "task": "salesflow.tenancy.tasks.fan_out_to_tenants",
        "schedule": crontab(minute=20),
        "args": ("forecasting.tasks_forecast.forecast_alert_scan_task", 0.2),
    },
    # Golden 48 h, traffic lights, stagnation, reminders and the 72 h pool release.
    "followups-sla-scan": {
        "task": "salesflow.tenancy.tasks.fan_out_to_tenants",
        "schedule": 300.0,
        "args": ("followups.tasks.sla_scan_task", 0.5),
    },
    "audit-chain-verify-nightly": {
        "task": "salesflow.tenancy.tasks.fan_out_to_tenants",
        "schedule": crontab(hour=19, minute=30),  # 03:30 in China
        "args": ("audit.tasks.audit_chain_verify_task",),
    },
    "notifications-deliveries-sweep": {
        "task": "salesflow.tenancy.tasks.fan_out_to_tenants",
        "schedule": 60.0,
        "args": ("salesflow.notifications.tasks.deliveries_sweep_task", 0.1),
    },
    "leads-import-jobs-sweep": {
        "task": "salesflow.tenancy.tasks.fan_out_to_tenants",
        "schedule": 120.0,
        "args": ("leads.tasks.import_jobs_sweep_task", 0.1),
    },
    # Weekly reports (Friday 17:00 heatmap, Monday 08:00 health report) in each tenant's zone:
    # every quarter hour each tenant's senders look whether theirs is due; each report is claimed once.
    "weekly-reports": {
        "task": "salesflow.tenancy.tasks.fan_out_to_tenants",
        "schedule": crontab(minute="*/15"),
        "args": ("salesflow.tasks.weekly_reports_task", 0.2),
    },
    "audit-checkpoint-hourly": {
        "task": "salesflow.tenancy.tasks.fan_out_to_tenants",
        "schedule": crontab(minute=7),
        "args": ("audit.checkpoints.tasks.checkpoint_hourly_task",),
    },
    "audit-checkpoint-weekly-mail": {
        "task": "salesflow.tenancy.tasks.fan_out_to_tenants",
        "schedule": crontab(day_of_week="mon", hour=1, minute=15),  # 09:15 in China
        "args": ("audit.checkpoints.tasks.checkpoint_weekly_mail_task",),
    },
    "audit-record-exports-sweep": {
        "task": "salesflow.tenancy.tasks.fan_out_to_tenants",
        "schedule": 120.0,
        "args": ("audit.export.tasks.exports_sweep_task", 0.1),
    },
    "leads-pool-release": {
        "task": "salesflow.tenancy.tasks.fan_out_to_tenants",
        "schedule": crontab(minute="*/10"),
        "args": ("leads.tasks.pool_release_expired_task",),
    },
}

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "SalesFlow <noreply@salesflow.localhost>")
# Without a timeout a stalled SMTP relay holds a worker forever (Django's default is none).
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
# Requests to endpoints tenants configure (salesflow/notifications/outbound.py).
SALESFLOW_OUTBOUND_HTTPS_ONLY = env_bool("SALESFLOW_OUTBOUND_HTTPS_ONLY", True)
# Exempt from the host and address checks: only for local test sinks, never in production.
SALESFLOW_OUTBOUND_TRUSTED_HOSTS = env_list("SALESFLOW_OUTBOUND_TRUSTED_HOSTS", [])

# RFC 3161 time-stamp authority every audit checkpoint is stamped by; empty: none.
# Requests follow the outbound rules (https only, public addresses only).
SALESFLOW_AUDIT_TSA_URL = env_str("SALESFLOW_AUDIT_TSA_URL", "")
SALESFLOW_AUDIT_TSA_TIMEOUT = env_float("SALESFLOW_AUDIT_TSA_TIMEOUT", 10.0)
# The authority's time-stamping certificate and/or its issuing CA (PEM text or a file path):
# each token's CMS signature must then verify with it. Empty: only the certificate the token
# carries is checked (its integrity, not whose it is).
SALESFLOW_AUDIT_TSA_CERTIFICATE = env_str("SALESFLOW_AUDIT_TSA_CERTIFICATE", "")
# Pages one record.pdf may hold; a longer interaction record is split into several PDFs.
SALESFLOW_RECORD_PDF_PAGE_CAP = env_int("SALESFLOW_RECORD_PDF_PAGE_CAP", 200)
# Dotted paths called when a tenant is provisioned; each installs its app's defaults and
# may return {"label": "value"} lines to announce (the intake key, for one).
# The role the application connects as in production, when migrations run as the owner:
# new tenant schemas grant it rights at provisioning time (see `grant_app_role`).
SALESFLOW_APP_DB_ROLE = env_str("SALESFLOW_APP_DB_ROLE", "")
# Key encrypting tenants' finance webhook secrets at rest (empty: derived from SECRET_KEY).
SALESFLOW_FINANCE_SECRET_KEY = env_str("SALESFLOW_FINANCE_SECRET_KEY", "")
SALESFLOW_TENANT_DEFAULTS: list[str] = ["salesflow.org.vocabularies.vocabulary_defaults_install", "leads.services.defaults_install", "followups.services.defaults_install", "forecasting.services.finance_secret.defaults_install"]
# Dotted paths called by seed_demo, in order, each with (rng, options, stdout).
SALESFLOW_DEMO_SEEDERS: list[str] = [
    "salesflow.org.demo.seed_org", "leads.demo.seed_leads", "followups.demo.seed_followups",
    "audit.health.demo.seed_health_touches", "audit.attribution.demo.seed_attribution",
    "forecasting.demo_evidence.seed_finance", "forecasting.demo_forecast.seed_forecast", "forecasting.demo_targets.seed_targets",
    "audit.export.demo.seed_interaction_history",
]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "weasyprint": {"level": "WARNING"}, "fontTools": {"level": "WARNING"}},
}
