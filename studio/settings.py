"""Shanhuo settings. Everything that differs between machines comes from the environment.

DATABASE_URL   sqlite:///… (default: db.sqlite3 beside manage.py) or postgres://user@host:port/name
SECRET_KEY     required when DEBUG is off
DEBUG          "true" (default, for development) or "false" (production)
ALLOWED_HOSTS  comma-separated host names (default: localhost names when DEBUG is on)

Production (DEBUG=false) adds WhiteNoise for static files, JSON log lines on stdout and the
deployment checklist (HTTPS redirect, secure cookies, HSTS), each switch tunable by the
environment; docs/DEPLOY.md lists every variable.
"""

import importlib.util
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from whitenoise.compress import Compressor

from studio.logging import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name, "")
    items = [item.strip() for item in value.split(",") if item.strip()]
    return items or default


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {value!r}.") from None


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from None


DEBUG = env_bool("DEBUG", True)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "django-insecure-development-only-key-do-not-use-in-production"

ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    # Before django_tasks_db: core's `db_worker` (the library's worker with leases, a heartbeat
    # and the sweep) replaces the library's command of the same name.
    "core.apps.CoreConfig",
    "django_tasks_db",
    "studio.apps.StudioConfig",
    "inventory.apps.InventoryConfig",
    "orders.apps.OrdersConfig",
    "shipping.apps.ShippingConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # NUL and other unstorable text, dates out of range, overflowing numbers: 400, never 500.
    "core.middleware.BadInputMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a lockout into its answer (core.auth.lockout_response).
    "axes.middleware.AxesMiddleware",
]

if not DEBUG:
    # Production serves static files from the web processes (collectstatic + WhiteNoise);
    # in development runserver serves them from static/.
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "studio.urls"
WSGI_APPLICATION = "studio.wsgi.application"
ASGI_APPLICATION = "studio.asgi.application"

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
                "studio.context_processors.roles",
                "core.context_processors.weight_unit",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A database that does not answer fails a request (and /health/) in seconds, not minutes.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env_int("DB_CONNECT_TIMEOUT", 5)
    )
    # Parameters travel apart from the SQL (server-side binding) and a statement a connection
    # has sent DB_PREPARE_THRESHOLD times is prepared: PostgreSQL parses and plans it once per
    # connection, not on every pack (half of its CPU in bench/peak_day.py; docs/BENCHMARKS.md).
    # 0 turns preparing off (a pooler in transaction mode older than PgBouncer 1.21).
    if env_bool("DB_SERVER_SIDE_BINDING", True):
        prepare_after = env_int("DB_PREPARE_THRESHOLD", 5)
        DATABASES["default"]["OPTIONS"].update(
            server_side_binding=True, prepare_threshold=prepare_after or None
        )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite: the web server and the task worker write at the same time. IMMEDIATE
    # transactions take the write lock up front (no "database is locked" mid-transaction),
    # WAL lets readers go on while one process writes.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # Covering indexes (Index(include=...)) are a PostgreSQL feature; SQLite builds the same
    # index without the extra columns, which is all it can do.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -----------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes first: it refuses a locked-out user name or address before any password check.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Lockout (login page, token endpoint, admin): AXES_FAILURE_LIMIT wrong passwords for one user
# name, or from one address, lock that user name or address for LOGIN_LOCKOUT_MINUTES. The
# counts live in the default cache, which every web process shares (docs/DEPLOY.md).
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_HANDLER = "axes.handlers.cache.AxesCacheHandler"
AXES_LOCKOUT_CALLABLE = "core.auth.lockout_response"
AXES_CLIENT_IP_CALLABLE = "core.auth.client_ip"
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False
# Reverse proxies in front of gunicorn whose X-Forwarded-For is believed: the client's address
# for lockout and throttling is the one the outermost proxy saw. ./serve behind nginx: 1.
WEB_PROXY_COUNT = env_int("WEB_PROXY_COUNT", 0 if DEBUG else 1)

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- Language and time ----------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static and media files -----------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT") or BASE_DIR / "staticfiles")
MEDIA_URL = "media/"
# Uploaded order files (imports/) and large label batches (labels/): every web process and
# task worker must see the same directory.
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT") or BASE_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Production: WhiteNoise serves what collectstatic gathered, each file under a hashed name
# (cached for a year) and compressed ahead of time. Source maps are read only by a browser's
# developer tools; compressing them (a third of the bytes) is not worth the collectstatic time.
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = [*Compressor.SKIP_COMPRESS_EXTENSIONS, "map"]

# --- Background tasks (django.tasks, stored in the database, run by `manage.py db_worker`) ---
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}

# The worker takes waiting tasks within a second; one waiting longer than this means no worker
# is running (or all are busy for that long): /health/ then answers "degraded".
HEALTH_TASKS_MAX_WAIT_MINUTES = env_int("HEALTH_TASKS_MAX_WAIT_MINUTES", 5)

# Leases (core/leases.py, docs/DEPLOY.md "Leases"): every claimed piece of background work (a
# task worker, an import, the allocation of waiting orders) holds a row whose heartbeat its
# process renews every LEASE_HEARTBEAT_SECONDS; one not renewed for LEASE_TIMEOUT_SECONDS
# (database time) belongs to a process that is gone, and the sweep every task worker runs at
# start and every LEASE_SWEEP_SECONDS resumes its work, or fails it once it has stopped
# LEASE_MAX_ATTEMPTS times. The same values on every machine.
LEASE_HEARTBEAT_SECONDS = env_float("LEASE_HEARTBEAT_SECONDS", 5)
LEASE_TIMEOUT_SECONDS = env_float("LEASE_TIMEOUT_SECONDS", 30)
LEASE_SWEEP_SECONDS = env_float("LEASE_SWEEP_SECONDS", 15)
LEASE_MAX_ATTEMPTS = env_int("LEASE_MAX_ATTEMPTS", 3)
if not 0 < LEASE_HEARTBEAT_SECONDS * 2 <= LEASE_TIMEOUT_SECONDS:
    raise ImproperlyConfigured(
        "LEASE_TIMEOUT_SECONDS must be at least twice LEASE_HEARTBEAT_SECONDS (and both above 0)."
    )
if LEASE_SWEEP_SECONDS <= 0 or LEASE_MAX_ATTEMPTS < 1:
    raise ImproperlyConfigured(
        "LEASE_SWEEP_SECONDS must be above 0 and LEASE_MAX_ATTEMPTS at least 1."
    )

# --- Cache ----------------------------------------------------------------------------------
# Sign-in lockout and API throttling count in the cache, so every web process must share it:
# by default a table in the database (created by core's migration 0003, or
# `manage.py createcachetable`); CACHE_URL=redis://host:6379/0 uses one Redis instead
# (install the `redis` package). core.cache.DatabaseCache is Django's, with a count that ran
# out starting again instead of failing (see its docstring).
CACHES = {
    "default": {
        "BACKEND": "core.cache.DatabaseCache",
        "LOCATION": "shanhuo_cache",
    }
}
CACHE_URL = os.environ.get("CACHE_URL", "").strip()
if CACHE_URL:
    if not CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured("CACHE_URL must be a redis://, rediss:// or unix:// URL.")
    if importlib.util.find_spec("redis") is None:
        raise ImproperlyConfigured("CACHE_URL is set: install the `redis` package.")
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
        }
    }

# The sales dashboard API answers the same question from the cache for this many seconds.
DASHBOARD_CACHE_SECONDS = env_int("DASHBOARD_CACHE_SECONDS", 10)

# --- API ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: an anonymous API call then gets 401 with a WWW-Authenticate header.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["core.permissions.RolePermission"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "core.throttling.AnonThrottle",
        "core.throttling.UserThrottle",
    ],
    "NUM_PROXIES": WEB_PROXY_COUNT,
    "COERCE_DECIMAL_TO_STRING": True,
}
# Calls per address (anonymous, token, trace page) or per user, counted in the shared cache.
# The token endpoint takes a password guess per call, hence its strict rate; API_THROTTLE=false
# turns all of them off (benchmarks and load tests on one address).
API_THROTTLE_RATES = (
    {
        "anon": os.environ.get("API_THROTTLE_ANON", "60/min"),
        "user": os.environ.get("API_THROTTLE_USER", "120/min"),
        "token": os.environ.get("API_THROTTLE_TOKEN", "10/min"),
        "trace": os.environ.get("API_THROTTLE_TRACE", "60/min"),
    }
    if env_bool("API_THROTTLE", True)
    else {}
)
SPECTACULAR_SETTINGS = {
    "TITLE": "Shanhuo API",
    "DESCRIPTION": "Farm produce from intake to parcel: lots, stock, orders and shipping.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI is served from our own static files, never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_PERMISSIONS": ["core.permissions.AnyStudioRole"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        # Fields some roles do not get (prices, amounts) are optional in the schema.
        "core.api.optional_role_fields",
    ],
    # One name for the order statuses that several fields (status, event from/to) share.
    "ENUM_NAME_OVERRIDES": {
        "OrderStatusEnum": "orders.models.OrderStatus",
        "ParcelStatusEnum": "shipping.models.ParcelStatus",
        "WaveStatusEnum": "shipping.models.WaveStatus",
        "TrackingStatusEnum": "shipping.serializers.TRACKING_STATUS_CHOICES",
        "ShipmentReportMethodEnum": "shipping.models.ShipmentReport.Method",
        "PaymentMethodEnum": "inventory.models.PaymentMethod",
    },
}

# --- The studio itself (printed on slips and labels) ----------------------------------------
STUDIO_NAME = os.environ.get("STUDIO_NAME", "朱家坪村山货直播间")
STUDIO_PHONE = os.environ.get("STUDIO_PHONE", "0539-5551234")
STUDIO_ADDRESS = os.environ.get("STUDIO_ADDRESS", "山东省临沂市沂南县朱家坪村村委会旁")
# The province parcels leave from: transit days default from it (orders.transit).
STUDIO_PROVINCE = os.environ.get("STUDIO_PROVINCE", "山东省")
# A TrueType CJK font to embed in PDFs; found automatically when empty.
SHANHUO_CJK_FONT = os.environ.get("SHANHUO_CJK_FONT", "")
# Where buyers reach the trace page: printed in the QR code on every shipping label.
SHANHUO_PUBLIC_URL = os.environ.get("SHANHUO_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
# The largest order export accepted for import, in bytes (tracking files too).
ORDER_IMPORT_MAX_BYTES = int(os.environ.get("ORDER_IMPORT_MAX_BYTES", str(20 * 1024 * 1024)))
# Every uploaded table (order exports, carriers' tracking files) is read within these limits,
# checked while it streams: a file over one is refused with a message naming it.
UPLOAD_MAX_INFLATED_BYTES = env_int("UPLOAD_MAX_INFLATED_BYTES", 100 * 1024 * 1024)  # XLSX
# 35,000 rows: a 20,000-order livestream is about 26,000; previewing 35,000 grows a worker by
# about 73 MB, within the 100 MB an upload may cost (docs/BENCHMARKS.md, "Uploads").
UPLOAD_MAX_ROWS = env_int("UPLOAD_MAX_ROWS", 35_000)
UPLOAD_MAX_COLUMNS = env_int("UPLOAD_MAX_COLUMNS", 200)
UPLOAD_MAX_CELL_CHARS = env_int("UPLOAD_MAX_CELL_CHARS", 2_000)
UPLOAD_MAX_ERROR_ROWS = env_int("UPLOAD_MAX_ERROR_ROWS", 1_000)
# An order that names a live session belongs to it only if paid inside the session's window
# widened by this many hours on each side (orders.sessions).
LIVE_SESSION_GRACE_HOURS = env_int("LIVE_SESSION_GRACE_HOURS", 2)
# Order exports of at most this many rows are imported while the request waits (about a
# second); larger ones go to the task worker, and so does the allocation step of a small one
# when more orders than this wait for stock. Never more than 5,000: a request stays short.
ORDER_IMPORT_INLINE_ROWS = env_int("ORDER_IMPORT_INLINE_ROWS", 1000)

# --- Platforms and waybill services (all optional: files and pools work without them) ------
# Fernet keys that encrypt platform credentials in the database, comma-separated; the first
# encrypts, all decrypt (put a new key first to rotate). Required to store credentials when
# DEBUG is off. Credentials may instead come from the environment:
# SHANHUO_PLATFORM_<CHANNEL CODE>_<APP_SECRET|SIGN_SECRET|ACCESS_TOKEN|REFRESH_TOKEN>.
SHANHUO_CREDENTIALS_KEYS = env_list("SHANHUO_CREDENTIALS_KEY", [])
# Seconds to wait for a platform to accept the connection, and for its answer.
PLATFORM_CONNECT_TIMEOUT = float(os.environ.get("PLATFORM_CONNECT_TIMEOUT", "3"))
PLATFORM_READ_TIMEOUT = float(os.environ.get("PLATFORM_READ_TIMEOUT", "10"))
# Tries of one call (a timeout, a dropped connection or a 5xx is tried again, with backoff).
PLATFORM_MAX_ATTEMPTS = env_int("PLATFORM_MAX_ATTEMPTS", 3)
# The circuit breaker opens after this many failed calls in a row and stays open this long.
PLATFORM_BREAKER_THRESHOLD = env_int("PLATFORM_BREAKER_THRESHOLD", 5)
PLATFORM_BREAKER_COOLDOWN_SECONDS = env_int("PLATFORM_BREAKER_COOLDOWN_SECONDS", 120)
# A rate-limit answer asking to wait at most this long is waited out within the call; a
# longer one ends the call and the next attempt is scheduled after it.
PLATFORM_RATE_LIMIT_INLINE_SECONDS = float(
    os.environ.get("PLATFORM_RATE_LIMIT_INLINE_SECONDS", "2")
)
# The sync (orders/platforms/sync.py): every task worker's sweep queues a run for each enabled
# account this many seconds after its last one; a first run reads this many hours back; each
# run reads again this many seconds before where the last one stopped (platforms index late),
# and reads at most this many pages of each stream (the rest waits for the next run).
PLATFORM_SYNC_SECONDS = env_int("PLATFORM_SYNC_SECONDS", 300)
PLATFORM_SYNC_FIRST_HOURS = env_int("PLATFORM_SYNC_FIRST_HOURS", 24)
PLATFORM_SYNC_OVERLAP_SECONDS = env_int("PLATFORM_SYNC_OVERLAP_SECONDS", 120)
PLATFORM_SYNC_MAX_PAGES = env_int("PLATFORM_SYNC_MAX_PAGES", 100)

# --- Production hardening (on whenever DEBUG is off) ----------------------------------------
# The defaults pass `manage.py check --deploy`; each switch can be turned off by the
# environment, e.g. SECURE_SSL_REDIRECT=false SECURE_COOKIES=false for a local benchmark over
# plain HTTP.
# A load balancer probes /health/ over plain HTTP: it is never redirected to HTTPS.
SECURE_REDIRECT_EXEMPT = [r"^health/$"]
if not DEBUG:
    # Trust X-Forwarded-Proto from the reverse proxy that ends TLS (nginx sets it). Turn off
    # when clients can reach gunicorn directly: they could then claim to be on HTTPS.
    if env_bool("SECURE_PROXY_SSL_HEADER", True):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = LANGUAGE_COOKIE_SECURE = env_bool(
        "SECURE_COOKIES", True
    )
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
    X_FRAME_OPTIONS = "DENY"

# Production: one JSON object per line on stdout (studio/logging.py); development: plain text.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "").strip().lower() or ("plain" if DEBUG else "json")
if LOG_FORMAT not in {"json", "plain"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or plain, not {LOG_FORMAT!r}.")
LOGGING = logging_config(fmt=LOG_FORMAT, level=os.environ.get("LOG_LEVEL", "INFO").upper())
