"""Settings shared by every environment; environment modules override what differs."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from coach.settings.env import env, env_bool

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(env.str("METACOACH_VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
ALLOWED_HOSTS: list[str] = env.list("DJANGO_ALLOWED_HOSTS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # runserver leaves static files to whitenoise, so `make run` serves them as production does.
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "coach.apps.CoachConfig",
    "learners.apps.LearnersConfig",
    # Counts failed logins and locks out a user name from an address (admin: Access attempts).
    "axes",
    # The REST API (learners.api), its OpenAPI schema, and Swagger UI's files served by us.
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
]

MIDDLEWARE = [
    # First: its one event per request times everything below it (coach.logs).
    "coach.logs.RequestEventMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "learners.middleware.LearnerTimezoneMiddleware",
    "learners.middleware.LearnerLanguageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: it turns a refused login into the lockout page (learners.throttle.login_locked_out).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "coach.urls"
WSGI_APPLICATION = "coach.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "learners.context_processors.roles",
                "learners.context_processors.email_status",
            ],
        },
    },
]


def sqlite_database(path: Path) -> dict[str, Any]:
    """SQLite tuned for a web process and a worker writing at once.

    IMMEDIATE transactions take the write lock at BEGIN, so concurrent writers wait for the lock
    (busy timeout) instead of failing with "database is locked" on upgrade; WAL lets readers
    go on while one process writes.
    """
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }


def database_from_env(default_sqlite: Path) -> dict[str, Any]:
    if env.str("DATABASE_URL", default=""):
        config: dict[str, Any] = env.db("DATABASE_URL")
        if config["ENGINE"] == "django.db.backends.sqlite3":
            return sqlite_database(Path(config["NAME"]))
        config.setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
        config["CONN_HEALTH_CHECKS"] = True
        return config
    return sqlite_database(default_sqlite)


DATABASES = {"default": database_from_env(VAR_DIR / "metacoach.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out user name and address before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    # After ModelBackend, which matches user names: what it leaves may be an e-mail address.
    "learners.backends.EmailBackend",
]
# Login throttling (django-axes): 5 failures for one user name from one address lock that pair out
# for 15 minutes. Not the name alone, which would let anyone lock a learner out; not the address
# alone, which a whole class behind a school's network shares. A success resets the count.
# Administrators unlock in the admin (Access attempts) or with `manage.py axes_reset_username`.
AXES_FAILURE_LIMIT = env.int("METACOACH_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("METACOACH_LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "learners.throttle.login_locked_out"
# Behind reverse proxies every request comes from the last proxy's address: METACOACH_PROXY_COUNT
# says how many proxies append to X-Forwarded-For, and throttles read the client's address there
# (learners.throttle.client_ip). 0, the default: the header is ignored, as a client can forge it.
PROXY_COUNT = env.int("METACOACH_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "learners.throttle.client_ip"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "landing"
CSRF_FAILURE_VIEW = "learners.views.errors.csrf_failure"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
# plotly.js's cartesian bundle (static/vendor/plotly, `make vendor-plotly`) is served by us, so
# charts work offline; it holds every trace type the charts draw, at a third of the full size.
STATICFILES_DIRS = [BASE_DIR / "static"]
# whitenoise serves the collected files (`collectstatic`, which `make run` runs) brotli- and
# gzip-compressed under content-hashed names that browsers may cache for good.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# `manage.py demo` creates accounts with known passwords: only where an environment allows it.
DEMO_ALLOWED = False

EMAIL_BACKEND = env.str("DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DJANGO_DEFAULT_FROM_EMAIL", default="Metacoach <noreply@localhost>")
# SMTP, for the backend production uses by default.
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = 10
# Where the app is reached, for links in mail sent without a request to take it from (reminders).
SITE_URL = env.str("METACOACH_SITE_URL", default="http://127.0.0.1:8000")
# xAPI statements (learners.xapi): the instance's address in actors' accounts and IRIs; empty
# means SITE_URL. Set it to keep the old address when the site moves, so ids and actors stay.
XAPI_BASE_URL = env.str("METACOACH_XAPI_BASE_URL", default="")
# A learning record store to send statements to (learners.services.xapi); off when the URL is unset.
XAPI_LRS_URL = env.str("XAPI_LRS_URL", default="").strip()
if XAPI_LRS_URL and not XAPI_LRS_URL.startswith(("https://", "http://")):
    # urllib would open file: and other schemes too; a typo must fail at start, not in a task.
    raise ImproperlyConfigured(f"XAPI_LRS_URL must be an http:// or https:// address, got {XAPI_LRS_URL!r}")
XAPI_LRS_USERNAME = env.str("XAPI_LRS_USERNAME", default="")
XAPI_LRS_PASSWORD = env.str("XAPI_LRS_PASSWORD", default="")

# One cache for every process, so a change the worker writes reaches the web app's cached pages
# (learners.versions) and counters hold across processes: files under var/ in the embedded default,
# Redis in production.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(VAR_DIR / "cache"),
        "OPTIONS": {"MAX_ENTRIES": 10000},
    }
}

# Celery: the embedded default is kombu's filesystem transport, a broker that needs no server.
BROKER_DIR = VAR_DIR / "broker"
# The filesystem transport ignores the host; naming one keeps kombu from warning that none was given.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://localhost//")
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, Any] = (
    {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
        "polling_interval": 0.1,
    }
    if CELERY_BROKER_URL.startswith("filesystem")
    # "sorted": a worker that takes several queues empties them in the order of their names,
    # so "celery" (refreshes) always goes before "low" (LOW_QUEUE).
    else {
        "socket_connect_timeout": 3,
        "socket_timeout": 10,
        "visibility_timeout": 3600,
        "queue_order_strategy": "sorted",
    }
)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SOFT_TIME_LIMIT = 120
CELERY_TASK_TIME_LIMIT = 180
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A retrain takes minutes of CPU: on a queue of its own, consumed by its own worker
# (supervisord.conf's worker-engine), it never holds up a learner's refresh on the default queue.
CELERY_TASK_DEFAULT_QUEUE = "celery"
ENGINE_QUEUE = "engine"
# Work done ahead of a visit (the dashboard panel) waits behind every refresh, on a queue of its
# own that the default queue's workers take too (--queues celery,low).
LOW_QUEUE = "low"
# The engine page's coaching figures read every logged recommendation: on the engine's queue too.
CELERY_TASK_ROUTES = {
    "learners.engine_run_execute": {"queue": ENGINE_QUEUE},
    "learners.coaching_value_refresh": {"queue": ENGINE_QUEUE},
    "learners.dashboard_panel_warm": {"queue": LOW_QUEUE},
}
# A web request must not hang on a broker that is down: give up publishing quickly and say so.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "recommendation-catch-up": {
        "task": "learners.recommendation_catch_up",
        "schedule": env.float("METACOACH_CATCH_UP_SECONDS", default=300.0),
    },
    # Each learner's reminder goes out within this many seconds after their chosen local time.
    "reminder-dispatch": {
        "task": "learners.reminder_dispatch",
        "schedule": env.float("METACOACH_REMINDER_SECONDS", default=300.0),
    },
    # Sends what the learning record store missed while it was down (nothing when none is set).
    "xapi-catch-up": {
        "task": "learners.xapi_catch_up",
        "schedule": env.float("METACOACH_XAPI_CATCH_UP_SECONDS", default=600.0),
    },
}
ENGINE_RETRAIN_CRONTAB = env.str("METACOACH_RETRAIN_CRONTAB", default="0 3 * * *")
_minute, _hour, _day_of_month, _month, _day_of_week = ENGINE_RETRAIN_CRONTAB.split()
CELERY_BEAT_SCHEDULE["engine-retrain"] = {
    "task": "learners.engine_run_schedule",
    "schedule": crontab(
        minute=_minute, hour=_hour, day_of_month=_day_of_month, month_of_year=_month, day_of_week=_day_of_week
    ),
}

# The REST API (learners.api, /api/v1/): personal access tokens or the browser's session (with
# CSRF), JSON only, one error format, pages of 50, and a request budget per token.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # First: its WWW-Authenticate header makes requests without credentials answer 401.
        "learners.api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "learners.api.permissions.TokenScope",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["learners.api.throttling.ApiRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api": env.str("METACOACH_API_RATE", default="120/minute")},
    "DEFAULT_PAGINATION_CLASS": "learners.api.pagination.ApiPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "learners.api.schema.ApiAutoSchema",
    "EXCEPTION_HANDLER": "learners.api.errors.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Metacoach API",
    "DESCRIPTION": (
        "A learner's study sessions, reflections, self-reports and recommendations, the strategy "
        "catalogue, and educators' cohorts. Authenticate with a personal access token from Settings "
        "(`Authorization: Bearer <token>`) or the browser's session. Every error has one format: "
        '`{"error": {"status", "code", "message", "fields"}}`.'
    ),
    "VERSION": "1",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {"TaskKindEnum": "learners.models.TaskKind"},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # The request and task events (coach.logs) are for production's JSON log; locally the
        # web server and the worker already print a line for each.
        "metacoach": {"level": "WARNING"},
    },
}

# Content Security Policy (django-csp): scripts, styles, images and connections from this origin
# only. Pages hold no inline scripts, event-handler attributes or style attributes (values a
# script needs come as data attributes); plotly.js runs without eval. Its charts set styles
# through the CSSOM, which the policy does not restrict.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "manifest-src": [SELF],
        "worker-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
