import os

os.environ.setdefault("SECRET_KEY", "test-only-insecure-key")
os.environ.setdefault("ALLOWED_HOSTS", ".localhost,localhost,127.0.0.1,testserver")
os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")

from .base import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
MEDIA_ROOT = BASE_DIR / ".data" / "test-media"  # noqa: F405
WHITENOISE_USE_FINDERS = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405

# Parallel test workers share one Redis: keep their cache keys and task queues apart.
_RUN = f'{DATABASES["default"]["NAME"]}-{os.environ.get("PYTEST_XDIST_WORKER", "main")}'  # noqa: F405
CACHES["default"]["KEY_PREFIX"] = f"sf-test-{_RUN}"  # noqa: F405
CELERY_TASK_DEFAULT_QUEUE = f"salesflow-test-{_RUN}"

# The suite's robot sinks listen on 127.0.0.1 over plain http; tests of the outbound checks
# override these two back to the production values.
SALESFLOW_OUTBOUND_HTTPS_ONLY = False
SALESFLOW_OUTBOUND_TRUSTED_HOSTS = ["127.0.0.1"]
