"""Inkstone settings. Everything that differs between machines comes from the environment.

Embedded defaults (no variables set): SQLite in WAL mode and an embedded redis-server on a
unix socket, both under INKSTONE_DATA_DIR. Production: DATABASE_URL, REDIS_URL and friends.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parents[2]


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={value!r}: expected 1/0, true/false, yes/no or on/off")


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int(name: str, default: int, minimum: int = 1) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r}: expected a whole number") from None
    if number < minimum:
        raise ImproperlyConfigured(f"{name}={value!r}: must be at least {minimum}")
    return number


DATA_DIR = Path(os.environ.get("INKSTONE_DATA_DIR") or BASE_DIR / "var").resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)
(DATA_DIR / "staticfiles").mkdir(exist_ok=True)  # WhiteNoise warns when STATIC_ROOT is missing
DEBUG = env_bool("DJANGO_DEBUG", True)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG=0")
    SECRET_KEY = "inkstone-development-only-key-never-use-in-production-0123456789"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "channels",
    "django_q",
    "django_htmx",
    "template_partials",
    "accounts",
    "core",
    "prompts",
    "styles",
    "corpora",
    "catalog",
    "articles",
    "training",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "accounts.middleware.CurrentWorkspaceMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

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
                "accounts.context_processors.workspace",
                "articles.context_processors.review_nav",
            ],
        },
    },
]

# --- Database: the source of truth --------------------------------------------------------
SQLITE_OPTIONS = {
    # Web server and workers write at the same time: WAL lets readers proceed while one writer
    # commits, IMMEDIATE takes the write lock up front (no lock-upgrade deadlock) and the busy
    # timeout makes a second writer wait instead of failing with "database is locked".
    "init_command": "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA busy_timeout=20000;",
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
}
if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=60)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "inkstone.sqlite3",
            # A file, not memory, so that the server and worker processes a test starts share it.
            "TEST": {"NAME": str(DATA_DIR / "test.sqlite3")},
        }
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {**SQLITE_OPTIONS, **DATABASES["default"].get("OPTIONS", {})}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: channel layer (transport only) and cache ---------------------------------------
EMBEDDED_REDIS_SOCKET = DATA_DIR / "redis" / "redis.sock"
REDIS_URL = os.environ.get("REDIS_URL") or f"unix://{EMBEDDED_REDIS_SOCKET}"
USES_EMBEDDED_REDIS = not os.environ.get("REDIS_URL")

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [REDIS_URL], "prefix": "inkstone", "capacity": 1000, "expiry": 30},
    }
}
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "inkstone",
        "TIMEOUT": 300,
    }
}

# --- Background queue: durable ORM broker, one cluster per kind of work --------------------
# A worker killed mid-task is retried after `retry` seconds, so `retry` must exceed `timeout`.
Q_CLUSTER = {
    "name": "generation",
    "orm": "default",
    "workers": int(os.environ.get("INKSTONE_GENERATION_WORKERS", "1")),
    "timeout": 1800,
    "retry": 1860,
    "max_attempts": 3,
    "catch_up": False,
    "ack_failures": True,
    "poll": 0.05,  # the ORM broker's polling interval: part of a draft's time to first token
    "ALT_CLUSTERS": {
        "training": {
            "workers": 1,  # one training job per GPU worker
            "timeout": 6 * 3600,
            "retry": 6 * 3600 + 60,
            "max_attempts": 2,
        },
    },
}
WORKER_CLUSTERS = ("generation", "training")
WORKER_HEARTBEAT_SECONDS = float(os.environ.get("INKSTONE_WORKER_HEARTBEAT_SECONDS", "5"))
# /healthz reports a cluster down when none of its processes has beaten for this long.
WORKER_STALE_AFTER_SECONDS = float(os.environ.get("INKSTONE_WORKER_STALE_SECONDS", "15"))
# Run by every worker cluster beside its heartbeat (core.heartbeat.PeriodicJobs), every beat.
WORKER_PERIODIC_JOBS = ("articles.services.generations_heal", "training.services.runs_heal")

# --- Auth, API ------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.tokens.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["accounts.permissions.IsWorkspaceMember"],
    "DEFAULT_PAGINATION_CLASS": "core.api.Pagination",
    "PAGE_SIZE": 25,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # JSON only, unless a view takes uploads (it then names MultiPartParser itself).
    "DEFAULT_PARSER_CLASSES": ["core.api.StrictJSONParser"],
    "EXCEPTION_HANDLER": "core.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Inkstone API",
    "DESCRIPTION": "Write with AI in your team's own voice. Everything is scoped to the "
    "caller's current workspace (header `X-Workspace` or the session's workspace).",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "ENUM_NAME_OVERRIDES": {"TrainingStatusEnum": "training.models.TrainingRun.Status"},
    "PATH_CONVERTER_OVERRIDES": {"id": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api.add_error_responses",
    ],
}

# --- Internationalisation, static files ------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "staticfiles"
WHITENOISE_USE_FINDERS = True

MEDIA_ROOT = DATA_DIR / "uploads"
# Dataset uploads: refused above this size (per upload); parsed by a worker above the second.
# In production also set the reverse proxy's body limit (nginx: client_max_body_size).
INKSTONE_UPLOAD_MAX_BYTES = int(os.environ.get("INKSTONE_UPLOAD_MAX_BYTES", 50 * 1024 * 1024))
INKSTONE_UPLOAD_ASYNC_BYTES = int(os.environ.get("INKSTONE_UPLOAD_ASYNC_BYTES", 2 * 1024 * 1024))
INKSTONE_DEFAULT_MODEL = os.environ.get("INKSTONE_DEFAULT_MODEL", "default")
# Folders (os.pathsep-separated) that workspace admins may add models from on the Models page,
# kept as configured: the catalog resolves them, and names them that way in its messages.
INKSTONE_MODEL_ROOTS = [
    Path(p)
    for p in (os.environ.get("INKSTONE_MODEL_ROOTS") or os.pathsep.join([str(DATA_DIR / "models"), str(DATA_DIR / "adapters")])).split(os.pathsep)
    if p
]
INKSTONE_GENERATIONS_PER_MINUTE = int(os.environ.get("INKSTONE_GENERATIONS_PER_MINUTE", "20"))
# Bounded work: the longest answer a generation may write (the form, the API and the worker all
# refuse more) and how many generations one user may have queued or running at once.
INKSTONE_MAX_NEW_TOKENS = int(os.environ.get("INKSTONE_MAX_NEW_TOKENS", "2048"))
INKSTONE_MAX_ACTIVE_GENERATIONS_PER_USER = int(os.environ.get("INKSTONE_MAX_ACTIVE_GENERATIONS_PER_USER", "8"))
# A running generation whose worker has not touched it for this long is marked interrupted.
# A training run whose worker has not beaten for this long is interrupted (and resumed).
INKSTONE_TRAINING_STALE_SECONDS = float(os.environ.get("INKSTONE_TRAINING_STALE_SECONDS", "30"))
# Processes per training run (data parallel); blank: one per GPU, or 1 on a CPU.
INKSTONE_TRAINING_PROCESSES = int(os.environ["INKSTONE_TRAINING_PROCESSES"]) if os.environ.get("INKSTONE_TRAINING_PROCESSES") else None
INKSTONE_GENERATION_STALE_SECONDS = float(os.environ.get("INKSTONE_GENERATION_STALE_SECONDS", "20"))

# --- Security (production) -----------------------------------------------------------------
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
    X_FRAME_OPTIONS = "DENY"

# --- Edge security: brute-force lockout (django-axes) and API-token failure throttling ------
INSTALLED_APPS += ["axes"]
MIDDLEWARE += ["axes.middleware.AxesMiddleware"]  # last: it turns a lockout into our 429 page
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses a locked-out account or address first
    "django.contrib.auth.backends.ModelBackend",
]
# A sign-in is refused (HTTP 429, Retry-After) after this many failures within the cool-off,
# counted per account and, separately, per client address; each failure restarts the cool-off.
AXES_FAILURE_LIMIT = env_int("INKSTONE_LOGIN_FAILURE_LIMIT", 10)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("INKSTONE_LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_LOCKOUT_CALLABLE = "accounts.throttling.lockout_response"
# The client address is REMOTE_ADDR, which uvicorn --proxy-headers sets from X-Forwarded-For
# (only for the proxy addresses in --forwarded-allow-ips).
AXES_CLIENT_IP_CALLABLE = "accounts.throttling.client_address"
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"  # attempts visible in the admin
# Wrong API tokens (Token/Bearer) per client address per window before 429 for the window's rest.
INKSTONE_API_AUTH_FAILURE_LIMIT = env_int("INKSTONE_API_AUTH_FAILURE_LIMIT", 20)
INKSTONE_API_AUTH_FAILURE_WINDOW = env_int("INKSTONE_API_AUTH_FAILURE_WINDOW", 300)

# --- Edge security: Content-Security-Policy (django-csp) and offline Swagger UI ---------------
# Every page works with no inline script, style or event handler: scripts and styles are static
# files. 'self' covers same-origin ws:/wss: in connect-src (CSP Level 3; Chromium, Firefox).
INSTALLED_APPS += ["csp", "drf_spectacular_sidecar"]
MIDDLEWARE += ["csp.middleware.CSPMiddleware"]
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    },
}
# Swagger UI's assets come from drf-spectacular-sidecar's static files, never from a CDN.
SPECTACULAR_SETTINGS["SWAGGER_UI_DIST"] = "SIDECAR"
SPECTACULAR_SETTINGS["SWAGGER_UI_FAVICON_HREF"] = "SIDECAR"
SPECTACULAR_SETTINGS["REDOC_DIST"] = "SIDECAR"
SPECTACULAR_SETTINGS["SWAGGER_UI_SETTINGS"] = {
    **SPECTACULAR_SETTINGS.get("SWAGGER_UI_SETTINGS", {"deepLinking": True}),
    "validatorUrl": None,  # no badge fetched from validator.swagger.io
}

# Refused requests (4xx) are logged as one line (config.request_log); 5xx keep their traceback.
MIDDLEWARE += ["config.request_log.RefusalReasonMiddleware"]
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "filters": {"refusals": {"()": "config.request_log.RefusalFilter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["refusals"]}
    },
    "root": {"handlers": ["console"], "level": os.environ.get("INKSTONE_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.channels.server": {"level": "WARNING"},
        # Django's own console handler would print every django.* record a second time
        "django": {"handlers": [], "level": "INFO", "propagate": True},
    },
}
