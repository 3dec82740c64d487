"""adminui settings: one module, everything read from the environment through one `env`.

Dev and demo (DEBUG on): missing SECRET_KEY and encryption keys are generated once into var/.
Production (DEBUG off): both must be given, or the process refuses to start.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import environ
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env") if (BASE_DIR / ".env").exists() else None

TESTING = "pytest" in sys.modules or env.bool("ADMINUI_TESTING", default=False)

# ---------------------------------------------------------------------------
# Core
# ---------------------------------------------------------------------------
DEBUG = env.bool("DEBUG", default=False)
VAR_DIR = Path(env.str("ADMINUI_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _dev_secret(name: str, make) -> str:
    """In DEBUG only: read a generated secret from var/, creating it once (with a warning)."""
    path = VAR_DIR / name
    if not path.exists():
        path.write_text(make())
        path.chmod(0o600)
        if not TESTING:
            warnings.warn(
                f"DEBUG: generated {path} — never use generated secrets in production", stacklevel=2
            )
    return path.read_text().strip()


SECRET_KEY = env.str("SECRET_KEY", default="")
# Comma-separated Fernet keys: the first encrypts, all decrypt (rotation: prepend a new key, run
# `manage.py rotate_encryption_keys`, then drop the old one).
ADMINUI_ENCRYPTION_KEYS = env.list("ADMINUI_ENCRYPTION_KEYS", default=[])

if DEBUG or TESTING:
    SECRET_KEY = SECRET_KEY or _dev_secret("secret_key", lambda: Fernet.generate_key().decode() * 2)
    ADMINUI_ENCRYPTION_KEYS = ADMINUI_ENCRYPTION_KEYS or [
        _dev_secret("encryption_key", lambda: Fernet.generate_key().decode())
    ]
else:
    missing = [
        n
        for n, v in (("SECRET_KEY", SECRET_KEY), ("ADMINUI_ENCRYPTION_KEYS", ADMINUI_ENCRYPTION_KEYS))
        if not v
    ]
    if missing:
        raise ImproperlyConfigured(
            f"adminui refuses to start with DEBUG off: set {' and '.join(missing)} in the environment "
            "(see README, 'Production'). Generate an encryption key with: "
            'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
        )

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG or TESTING else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "axes",
    "django_tasks_db",
    "apps.core",
    "apps.accounts",
    "apps.connections",
    "apps.audit",
    "apps.directory",
    "apps.people",
    "apps.groups",
    "apps.transfers",
]
if DEBUG or TESTING:
    # fake ToolJet and Retool servers (`manage.py simulator`, the demo fleet, the tests): never in production
    INSTALLED_APPS.append("apps.simulators")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "apps.core.middleware.RequestIDMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "apps.core.middleware.HtmxLoginRedirectMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "apps.core.middleware.HtmxErrorMiddleware",
    "apps.core.middleware.NoStoreMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "adminui.urls"
WSGI_APPLICATION = "adminui.wsgi.application"
ASGI_APPLICATION = "adminui.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "apps.core.context_processors.console",
                "apps.connections.context_processors.nav",
            ],
            "builtins": ["django_htmx.templatetags.django_htmx", "apps.core.templatetags.adminui"],
        },
    },
]

# ---------------------------------------------------------------------------
# Data: SQLite under var/ by default; PostgreSQL via DATABASE_URL=postgres://...
# ---------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'adminui.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + a busy timeout let the web process and the task worker share the file.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
        }
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://adminui")}

TASKS = {
    "default": {
        "BACKEND": env.str("TASKS_BACKEND", default="django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

# ---------------------------------------------------------------------------
# Auth
# ---------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# Failed-login throttling: 5 failures per username+IP lock it for 15 minutes.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = 0.25
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked.html"
AXES_VERBOSE = False
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)

if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# ---------------------------------------------------------------------------
# Security (production): `manage.py check --deploy` must report 0 warnings with DEBUG off.
# ---------------------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG and not TESTING)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG and not TESTING)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG or TESTING else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# Content Security Policy (Django's built-in CSP): no inline scripts or styles anywhere.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "object-src": [CSP.NONE],
}
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# ---------------------------------------------------------------------------
# Static files
# ---------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Development and tests serve static files straight from the finders (no collectstatic needed).
WHITENOISE_USE_FINDERS = DEBUG or TESTING
WHITENOISE_AUTOREFRESH = DEBUG or TESTING
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG or TESTING
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# ---------------------------------------------------------------------------
# Logging: one line per event, with the request id.
# ---------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "apps.core.logging.RequestIDFilter"}},
    "formatters": {"line": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "line", "filters": ["request_id"]}
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"httpx": {"level": "WARNING"}, "httpcore": {"level": "WARNING"}},
}

# ---------------------------------------------------------------------------
# adminui
# ---------------------------------------------------------------------------
ADMINUI_REQUIRE_REASON = env.bool("ADMINUI_REQUIRE_REASON", default=True)
ADMINUI_SECRET_KEY_PATTERN = env.str(
    "ADMINUI_SECRET_KEY_PATTERN", default=r"(?i)(key|token|secret|passw|credential|auth)"
)
ADMINUI_DIRECTORY_STALE_AFTER = env.int("ADMINUI_DIRECTORY_STALE_AFTER", default=3600)  # seconds
ADMINUI_DIRECTORY_SYNC_INTERVAL = env.int("ADMINUI_DIRECTORY_SYNC_INTERVAL", default=900)  # seconds
# A sync still "running" this long after it started has lost its worker (killed, machine restarted): the page says
# so and offers a new one instead of a spinner for ever.
ADMINUI_DIRECTORY_SYNC_STALLED_AFTER = env.int(
    "ADMINUI_DIRECTORY_SYNC_STALLED_AFTER", default=3600
)  # seconds
# Queued background work (a bundle, a sync) normally starts within a second or two; after this the page tells the
# operator to check that the task worker runs.
ADMINUI_WORKER_OVERDUE = env.int("ADMINUI_WORKER_OVERDUE", default=30)  # seconds
ADMINUI_IMPORT_MAX_BYTES = env.int("ADMINUI_IMPORT_MAX_BYTES", default=100 * 1024 * 1024)
ADMINUI_BUNDLE_LINK_TTL = env.int("ADMINUI_BUNDLE_LINK_TTL", default=24 * 3600)  # seconds
ADMINUI_EXPORTS_DIR = Path(env.str("ADMINUI_EXPORTS_DIR", default=str(VAR_DIR / "exports")))
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024  # larger uploads spool to a temporary file
