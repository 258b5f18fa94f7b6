"""Production: PostgreSQL and Redis from the environment; refuses to start without its secrets."""

from urllib.parse import urlparse

from django.core.exceptions import ImproperlyConfigured

from coach.settings.base import *  # noqa: F403
from coach.settings.base import VAR_DIR, database_from_env
from coach.settings.env import env, env_bool, env_required

DEBUG = False
SECRET_KEY = env_required("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = [h.strip() for h in env_required("DJANGO_ALLOWED_HOSTS").split(",") if h.strip()]

if urlparse(env_required("DATABASE_URL")).scheme not in {"postgres", "postgresql", "pgsql"}:
    raise ImproperlyConfigured(
        "DATABASE_URL must be a PostgreSQL URL (postgres://user:password@host:5432/name)."
    )
DATABASES = {"default": database_from_env(VAR_DIR / "unused.sqlite3")}

CELERY_BROKER_URL = env_required("CELERY_BROKER_URL")
if urlparse(CELERY_BROKER_URL).scheme not in {"redis", "rediss"}:
    raise ImproperlyConfigured("CELERY_BROKER_URL must be a Redis URL (redis://host:6379/0).")
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 3,
    "socket_timeout": 10,
    "visibility_timeout": 3600,
}
# Join-code failure counters (learners.throttle) are shared by every gunicorn worker and machine.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env.str("DJANGO_CACHE_URL", default=CELERY_BROKER_URL),
    }
}

# HTTPS by default; a deployment behind a TLS-terminating proxy sets DJANGO_SECURE_PROXY_SSL_HEADER.
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
LANGUAGE_COOKIE_SECURE = True
# No script reads the CSRF cookie: forms carry the token in a hidden field.
CSRF_COOKIE_HTTPONLY = True
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
if env_bool("DJANGO_SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
EMAIL_BACKEND = env.str("DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
# The address in links of mail sent without a request (reminders): wrong, every link would be broken.
SITE_URL = env_required("METACOACH_SITE_URL")

# One JSON object per line on standard error, for the log collector: every record, and one event
# per request and per task run (coach.logs). The worker keeps this handler instead of its own.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "coach.logs.JsonFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "metacoach": {"level": "INFO"}},
}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
