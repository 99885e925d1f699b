"""Vigil settings: one module, everything from the environment.

Nothing here exists only in production: the demo, the tests and a production
deployment read the same variables (documented in README.md, "Configuration").
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
# A fixed development key is only acceptable with DEBUG on; `check --deploy`
# and the production docs require SECRET_KEY to be set.
DEVELOPMENT_SECRET_KEY = "vigil-insecure-development-key-change-me-0123456789"  # noqa: S105
SECRET_KEY = os.environ.get("SECRET_KEY", DEVELOPMENT_SECRET_KEY)

VIGIL_BASE_DOMAIN = os.environ.get("VIGIL_BASE_DOMAIN", "localhost")
ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", f"{VIGIL_BASE_DOMAIN},.{VIGIL_BASE_DOMAIN},127.0.0.1,testserver"
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# Public URL scheme and port used when Vigil prints links to tenant hosts.
VIGIL_PUBLIC_SCHEME = os.environ.get("VIGIL_PUBLIC_SCHEME", "http")
VIGIL_PUBLIC_PORT = os.environ.get("VIGIL_PUBLIC_PORT", "8000")

SHARED_APPS = [
    # `tenants` comes before django_tenants so that its create_tenant command (the
    # documented contract) wins over django-tenants' interactive one of the same name.
    "tenants",
    "django_tenants",
    "core",
    "compliance",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI as static files: no CDN, no inline script
    "django_htmx",
    "billing",
    "metrics",
]
TENANT_APPS = [
    "django.contrib.contenttypes",
    "compliance",
    "metrics",
    "alerts",
]
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]

# Apps listed in both SHARED_APPS and TENANT_APPS keep each model in one
# place only: the models named here live in `public`, the app's other models
# in every tenant schema (see core/db_router.py and docs/decisions/0001).
VIGIL_PUBLIC_MODELS = {
    "compliance.auditentry",
    "compliance.auditchainhead",
    "compliance.chaincheckpoint",
    "compliance.chainverification",
    "metrics.dailyusage",
}
VIGIL_DUAL_APPS = {"compliance", "metrics"}

TENANT_MODEL = "tenants.Tenant"
TENANT_DOMAIN_MODEL = "tenants.Domain"
PUBLIC_SCHEMA_NAME = "public"
# `migrate_schemas --executor=multiprocessing` migrates this many tenant schemas at once.
TENANT_MULTIPROCESSING_MAX_PROCESSES = int(os.environ.get("VIGIL_MIGRATION_PROCESSES", "4"))
TENANT_MULTIPROCESSING_CHUNKS = 2
ROOT_URLCONF = "core.urls_tenant"
PUBLIC_SCHEMA_URLCONF = "core.urls_public"
# VigilSchemaRouter refines TenantSyncRouter; django-tenants insists on seeing its own listed.
DATABASE_ROUTERS = ["core.db_router.VigilSchemaRouter", "django_tenants.routers.TenantSyncRouter"]
# Issue `SET search_path` once per schema switch instead of before every cursor (about
# half of an ingest request's statements). django-tenants >= 4 forgets the cached path
# on rollback and savepoint rollback, where PostgreSQL reverts the SET.
TENANT_LIMIT_SET_CALLS = True

MIDDLEWARE = [
    # Security headers first, so that every answer carries them: also the ones tenant
    # resolution gives before any view runs (unknown host, missing API key, 503).
    "core.middleware.ContentSecurityPolicyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "core.middleware.RequestContextMiddleware",
    "tenants.middleware.TenantResolutionMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "tenants.middleware.MemberRoleMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
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
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.vigil",
            ],
        },
    },
]

WSGI_APPLICATION = "core.wsgi.application"

DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/vigil")
_db = dj_database_url.parse(DATABASE_URL, conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")))
_db["ENGINE"] = "django_tenants.postgresql_backend"
_db.setdefault("OPTIONS", {})
_db["TEST"] = {"NAME": os.environ.get("TEST_DATABASE_NAME", f"test_{_db['NAME']}")}
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
        "TIMEOUT": 300,
    }
}

SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (core.middleware): scripts, styles, fetches and frames from
# Vigil's own origin only. No 'unsafe-inline': templates carry no inline script, event
# handler or style attribute (static/js/vigil.js applies data-width/data-confirm), htmx
# is told not to inject its indicator <style> (htmx-config in base.html), and the API
# docs page serves Swagger UI from static files (drf-spectacular-sidecar) with its
# start-up script as a separate file. data: images are uPlot's and Swagger UI's icons.
VIGIL_CONTENT_SECURITY_POLICY = os.environ.get(
    "VIGIL_CONTENT_SECURITY_POLICY",
    "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "connect-src 'self'",
            "font-src 'self'",
            "frame-ancestors 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "object-src 'none'",
        ]
    ),
)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0"))
# Every tenant is a subdomain of the base domain, so HSTS must cover subdomains.
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", SECURE_HSTS_SECONDS >= 31536000)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY", False) else None
)

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / ".vigil" / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # collectstatic target; whitenoise warns if absent
VIGIL_DATA_DIR = Path(os.environ.get("VIGIL_DATA_DIR", BASE_DIR / ".vigil" / "data"))
# Ed25519 private key (PEM, PKCS#8) that signs audit checkpoints and evidence
# bundles; `manage.py create_signing_key` writes one. Keep it off the database host.
VIGIL_SIGNING_KEY_PATH = Path(
    os.environ.get("VIGIL_SIGNING_KEY_PATH", BASE_DIR / ".vigil" / "signing_key.pem")
)
# Ingest protection per tenant (metrics/ingest/ratelimit.py, docs/api.md); 0 = no limit.
VIGIL_INGEST_RATE_REQUESTS = float(os.environ.get("VIGIL_INGEST_RATE_REQUESTS", "50"))
VIGIL_INGEST_RATE_EVENTS = float(os.environ.get("VIGIL_INGEST_RATE_EVENTS", "20000"))
VIGIL_INGEST_RATE_WINDOW_S = int(os.environ.get("VIGIL_INGEST_RATE_WINDOW_S", "10"))

# Alert webhook/Slack channels post only to public addresses (alerts/channels/ssrf.py).
# ALLOW_PRIVATE lifts that for an on-premises install; ALLOWED_HOSTS exempts named hosts.
VIGIL_WEBHOOK_ALLOW_PRIVATE = env_bool("VIGIL_WEBHOOK_ALLOW_PRIVATE", False)
VIGIL_WEBHOOK_ALLOWED_HOSTS = env_list("VIGIL_WEBHOOK_ALLOWED_HOSTS")

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "10"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", f"vigil@{VIGIL_BASE_DOMAIN}")

# Stripe (billing/): calls run only in Celery tasks on the `billing` queue.
# STRIPE_API_BASE points the official client at a self-hosted mock (tests use a local fake).
STRIPE_API_KEY = os.environ.get("STRIPE_API_KEY", "")
STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "")
STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE", "")
STRIPE_METER_EVENT_NAME = os.environ.get("STRIPE_METER_EVENT_NAME", "vigil_usage")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["tenants.api_auth.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["tenants.api_auth.HasApiKey"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Vigil API",
    "DESCRIPTION": "Report LLM calls and read the five metric layers of your tenant.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Celery -----------------------------------------------------------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Redis redelivers a task nobody acknowledged after this long (acks_late): well past the
# longest hard time limit (1 h: evidence exports, chain verification, repricing), so a
# task still running is never handed to a second worker.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3 * 3600}
VIGIL_QUEUES = ("default", "ingest", "rollup", "alerts", "quality", "billing", "compliance")
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_QUEUES = [Queue(name) for name in VIGIL_QUEUES]
# Every task sits on the queue of its concern: the app label picks it.
CELERY_TASK_ROUTES = {
    "tenants.*": {"queue": "default"},
    "core.*": {"queue": "default"},
    "metrics.ingest.*": {"queue": "ingest"},
    "metrics.rollup.*": {"queue": "rollup"},
    "metrics.quality.*": {"queue": "quality"},
    "alerts.*": {"queue": "alerts"},
    "billing.*": {"queue": "billing"},
    "compliance.*": {"queue": "compliance"},
}
# Beat lives in `public`; each entry names a per-tenant task that
# core.tasks.fan_out_to_tenants sends once into every active tenant's schema.
CELERY_BEAT_SCHEDULE = {
    # compliance: sign every moved audit chain head; re-hash every chain daily;
    # expire old events/content per tenant retention settings (legal hold wins).
    "compliance-checkpoint-chains": {
        "task": "compliance.checkpoint_chains",
        "schedule": 900.0,
    },
    "compliance-verify-chains": {
        "task": "compliance.verify_chains",
        "schedule": 86400.0,
    },
    "compliance-retention-sweep": {
        "task": "core.fan_out_to_tenants",
        "schedule": 86400.0,
        "args": ["compliance.retention_sweep"],
    },
    "tenant-heartbeat": {
        "task": "core.fan_out_to_tenants",
        "schedule": 60.0,
        "args": ["tenants.record_heartbeat"],
    },
    # metrics.otel: trace-context spans follow the tenant's event retention.
    "metrics-prune-trace-context": {
        "task": "core.fan_out_to_tenants",
        "schedule": 86400.0,
        "args": ["metrics.ingest.prune_trace_context"],
    },
    "metrics-rollup-dirty-hours": {
        "task": "core.fan_out_to_tenants",
        "schedule": 60.0,
        "args": ["metrics.rollup.process_dirty_hours"],
    },
    # alerts: its own fan-out stamps each tenant's task with the minute and an expiry,
    # so a backlog after an outage is dropped instead of replayed (alerts/tasks.py).
    "alerts-evaluate": {
        "task": "alerts.evaluate_all",
        "schedule": 60.0,
    },
    # billing: meter usage to Stripe hourly; close last month, reconcile meters and
    # issue SLA credits daily (each safe to run twice).
    "billing-send-meter-events": {"task": "billing.send_meter_events", "schedule": 3600.0},
    "billing-daily": {"task": "billing.daily", "schedule": 86400.0},
    # quality: grade newly sampled events each minute; daily drift/calibration/agreement.
    "metrics-quality-grade-pending": {
        "task": "core.fan_out_to_tenants",
        "schedule": 60.0,
        "args": ["metrics.quality.grade_pending"],
    },
    "metrics-quality-daily": {
        "task": "core.fan_out_to_tenants",
        "schedule": 86400.0,
        "args": ["metrics.quality.daily"],
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
    },
}
