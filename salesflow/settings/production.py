"""Production: behind a TLS-terminating reverse proxy that sets X-Forwarded-Proto.

`manage.py check --deploy --settings salesflow.settings.production` is clean once the
environment gives SECRET_KEY (50+ random characters) and ALLOWED_HOSTS.
"""
from .base import *  # noqa: F403
from salesflow.env import env_bool, env_int

DEBUG = False
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
# /healthz is answered before SecurityMiddleware, so plain-HTTP probes inside the network still work.
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
# Tenants are subdomains of the service's domain: all of them are HTTPS only.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
