"""adminui settings: one module, everything read from the environment through one `env`.

Dev and demo (DEBUG on): missing SECRET_KEY and encryption keys are generated once into var/.
Production (DEBUG off): both must be given, or the process refuses to start.
"""

from __future__ import annotations

import contextlib
import socket
import sys
import warnings
from pathlib import Path

import environ
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from apps.core.logging import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env") if (BASE_DIR / ".env").exists() else None

TESTING = "pytest" in sys.modules or env.bool("ADMINUI_TESTING", default=False)

# ---------------------------------------------------------------------------
# Core
# ---------------------------------------------------------------------------
DEBUG = env.bool("DEBUG", default=False)
VAR_DIR = Path(env.str("ADMINUI_VAR_DIR", default=str(BASE_DIR / "var")))
# A read-only code directory (a container image, a package) must still import settings: var/ is only needed for
# SQLite, generated development secrets and exports, each of which fails with its own path when it is used.
with contextlib.suppress(OSError):
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
    "apps.plans",
]
if DEBUG or TESTING:
    # fake ToolJet and Retool servers (`manage.py simulator`, the demo fleet, the tests): never in production
    INSTALLED_APPS.append("apps.simulators")

MIDDLEWARE = [
    "apps.core.middleware.RequestIDMiddleware",
    "apps.core.middleware.HealthProbeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "apps.core.middleware.SessionTimeoutMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "apps.core.middleware.HtmxLoginRedirectMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "apps.core.middleware.HtmxErrorMiddleware",
    # a refused POST leaves a (throttled) denied audit row, written in this one place for every view
    "apps.connections.middleware.DeniedRequestAuditMiddleware",
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
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    # Redis down must not take pages down: misses and dropped writes instead of errors (apps.core.cache), and a
    # Redis that does not answer fails in a second, not after the worker timeout.
    CACHES["default"]["BACKEND"] = "apps.core.cache.TolerantRedisCache"
    CACHES["default"].setdefault("OPTIONS", {}).update({"socket_connect_timeout": 1, "socket_timeout": 2})

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
# Absolute session limit (seconds since login) and idle limit (seconds since the last request); both enforced by
# apps.core.middleware.SessionTimeoutMiddleware.
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
ADMINUI_SESSION_IDLE_TIMEOUT = env.int("ADMINUI_SESSION_IDLE_TIMEOUT", default=30 * 60)

# ---------------------------------------------------------------------------
# Reverse proxy: whose X-Forwarded-For to believe (apps.core.clientip). Only peers in ADMINUI_TRUSTED_PROXIES
# (addresses or networks) are believed; ADMINUI_PROXY_COUNT is the number of proxy addresses the header holds after
# the client's (0 when the proxy in front overwrites it with the address it saw, as deploy/nginx.conf does).
# gunicorn's FORWARDED_ALLOW_IPS (adminui/gunicorn.conf.py) should name the same peers.
# ---------------------------------------------------------------------------
ADMINUI_TRUSTED_PROXIES = env.list("ADMINUI_TRUSTED_PROXIES", default=["127.0.0.1", "::1"])
ADMINUI_PROXY_COUNT = env.int("ADMINUI_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "apps.core.clientip.client_ip"

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
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))  # collectstatic writes here
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
# Logging: one line per event with the request id (task id in workers); JSON unless LOG_FORMAT=text (the default
# with DEBUG on). gunicorn's logs use the same config (adminui/gunicorn.conf.py).
# ---------------------------------------------------------------------------
LOG_FORMAT = env.str("LOG_FORMAT", default="text" if DEBUG else "json")
LOGGING = logging_config(fmt=LOG_FORMAT, level=env.str("LOG_LEVEL", default="INFO"))

# Optional error reporting: set SENTRY_DSN. Tokens, cookies and Authorization headers are scrubbed before sending.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN and not TESTING:
    import sentry_sdk

    from apps.core.sentry import before_send

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        send_default_pii=False,
        before_send=before_send,
        environment=env.str("SENTRY_ENVIRONMENT", default="production"),
    )

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
# Files that outlive a request (bundles, their per-app parts, staged imports) go through the "transfers" storage:
# a folder on this host by default, or an S3-compatible bucket that every host shares (ADMINUI_STORAGE=s3). With
# more than one host, a local folder must itself be shared, or a file built on one host is not there on another.
ADMINUI_STORAGE = env.str("ADMINUI_STORAGE", default="local")
# 0: no quota. Counted from the rows (bundles still downloadable, staged imports), on either kind of storage.
ADMINUI_EXPORTS_QUOTA_BYTES = env.int("ADMINUI_EXPORTS_QUOTA_BYTES", default=0)
# Local storage only: a build or upload is refused while less than this is free on the exports disk.
ADMINUI_EXPORTS_MIN_FREE_BYTES = env.int("ADMINUI_EXPORTS_MIN_FREE_BYTES", default=256 * 1024 * 1024)
# The name this host gives the files it keeps on a local disk, so another host can say where they are.
ADMINUI_HOST_NAME = socket.gethostname()
if ADMINUI_STORAGE == "s3":
    _s3_endpoint = env.str("ADMINUI_S3_ENDPOINT_URL", default="") or None
    TRANSFERS_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.str("ADMINUI_S3_BUCKET"),
            "location": env.str("ADMINUI_S3_PREFIX", default="adminui-transfers"),
            "endpoint_url": _s3_endpoint,
            "region_name": env.str("ADMINUI_S3_REGION", default="") or None,
            # empty: boto3's own chain (instance role, AWS_* variables, ~/.aws)
            "access_key": env.str("ADMINUI_S3_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("ADMINUI_S3_SECRET_ACCESS_KEY", default="") or None,
            # MinIO, Ceph and most self-hosted stores want path-style URLs
            "addressing_style": "path" if _s3_endpoint else None,
            "file_overwrite": True,
            "default_acl": None,
            "querystring_auth": True,
            # writes go up in 8 MiB multipart pieces; a read spooled by the library stays on disk past 8 MiB
            "max_memory_size": 8 * 1024 * 1024,
        },
    }
else:
    TRANSFERS_STORAGE = {"BACKEND": "apps.transfers.storage.ExportsDirStorage"}
STORAGES["transfers"] = TRANSFERS_STORAGE
AWS_S3_FILE_BUFFER_SIZE = 8 * 1024 * 1024

FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024  # larger uploads spool to a temporary file

# ---------------------------------------------------------------------------
# Operations (apps.ops): the scheduler, worker heartbeats, the reaper, /metrics and the full readiness check.
# ---------------------------------------------------------------------------
INSTALLED_APPS += ["apps.ops"]  # the top layer: it may import every feature app, none imports it
# A worker writes its heartbeat row this often; one silent for ADMINUI_WORKER_STALE_AFTER is taken for dead, and the
# reaper marks the work it left "running" as failed (bundles offer Retry, syncs stop saying "running").
ADMINUI_WORKER_HEARTBEAT = env.float("ADMINUI_WORKER_HEARTBEAT", default=10.0)  # seconds
ADMINUI_WORKER_STALE_AFTER = env.int("ADMINUI_WORKER_STALE_AFTER", default=60)  # seconds
# `manage.py scheduler` looks for due jobs this often (every job also has its own interval).
ADMINUI_SCHEDULER_TICK = env.float("ADMINUI_SCHEDULER_TICK", default=5.0)  # seconds
ADMINUI_TASK_RESULTS_KEEP_DAYS = env.int("ADMINUI_TASK_RESULTS_KEEP_DAYS", default=14)
# /metrics answers a request carrying `Authorization: Bearer <ADMINUI_METRICS_TOKEN>` or coming from one of the
# networks (CIDR) in ADMINUI_METRICS_ALLOWED_NETWORKS; neither set: it answers no one.
ADMINUI_METRICS_TOKEN = env.str("ADMINUI_METRICS_TOKEN", default="")
ADMINUI_METRICS_ALLOWED_NETWORKS = env.list("ADMINUI_METRICS_ALLOWED_NETWORKS", default=[])

# ---------------------------------------------------------------------------
# Change plans
# ---------------------------------------------------------------------------
# What needs a second approver (apps.accounts.policy): any of grant_admin, protected_target,
# production_offboarding, group_delete. Removing one lets a single operator do that alone.
ADMINUI_PLAN_APPROVAL_RULES = env.list(
    "ADMINUI_PLAN_APPROVAL_RULES",
    default=["grant_admin", "protected_target", "production_offboarding", "group_delete"],
)
ADMINUI_PLAN_APPROVAL_TTL = env.int("ADMINUI_PLAN_APPROVAL_TTL", default=24 * 3600)  # seconds a request waits
# instances a plan reads and writes at once: threads waiting on upstreams (P7 needs one per instance)
ADMINUI_PLAN_PARALLEL = env.int("ADMINUI_PLAN_PARALLEL", default=32)

# ---------------------------------------------------------------------------
# Sign-in: single sign-on (OpenID Connect), local passwords, re-authentication
# ---------------------------------------------------------------------------
# OIDC is on when an issuer and a client id are set. The issuer's discovery document
# (<issuer>/.well-known/openid-configuration) supplies every endpoint. The redirect URI to register at the
# identity provider is https://<console host>/login/oidc/callback/.
ADMINUI_OIDC_ISSUER = env.str("ADMINUI_OIDC_ISSUER", default="").rstrip("/")
ADMINUI_OIDC_CLIENT_ID = env.str("ADMINUI_OIDC_CLIENT_ID", default="")
ADMINUI_OIDC_CLIENT_SECRET = env.str("ADMINUI_OIDC_CLIENT_SECRET", default="")  # secret: never logged
ADMINUI_OIDC_NAME = env.str("ADMINUI_OIDC_NAME", default="single sign-on")  # "Sign in with <name>"
# Add "groups" where the IdP needs that scope to send the groups claim (Okta's org authorisation server); IdPs
# refuse scopes they do not know, so it is not in the default.
ADMINUI_OIDC_SCOPES = env.str("ADMINUI_OIDC_SCOPES", default="openid profile email")
ADMINUI_OIDC_GROUPS_CLAIM = env.str("ADMINUI_OIDC_GROUPS_CLAIM", default="groups")
ADMINUI_OIDC_USERNAME_CLAIM = env.str("ADMINUI_OIDC_USERNAME_CLAIM", default="preferred_username")
# IdP group → console role, e.g. "adminui-admins=admin,adminui-helpdesk=helpdesk,staff=viewer". The highest mapped
# role wins; a person in no mapped group is refused. Re-read at every sign-in.
ADMINUI_OIDC_ROLE_MAP = env.dict("ADMINUI_OIDC_ROLE_MAP", default={})
# IdP group → environment scope, e.g. "adminui-staging=staging". A person in any of these groups is limited to
# the listed environments; with none of them, the scope set on the operator page is kept.
ADMINUI_OIDC_ENVIRONMENT_MAP = env.dict("ADMINUI_OIDC_ENVIRONMENT_MAP", default={})
ADMINUI_OIDC_TIMEOUT = env.float("ADMINUI_OIDC_TIMEOUT", default=10.0)  # seconds, per call to the IdP
# Local passwords: on by default. Set ADMINUI_LOCAL_LOGIN=0 to allow single sign-on only, except for the
# break-glass usernames listed in ADMINUI_BREAK_GLASS_USERS (keep one for when the IdP is down).
ADMINUI_LOCAL_LOGIN = env.bool("ADMINUI_LOCAL_LOGIN", default=True)
ADMINUI_BREAK_GLASS_USERS = env.list("ADMINUI_BREAK_GLASS_USERS", default=[])
# Sensitive actions (operator management and others) ask for a fresh sign-in after this many minutes.
ADMINUI_REAUTH_MINUTES = env.int("ADMINUI_REAUTH_MINUTES", default=15)
# A password-set link for an invited or reset local operator is valid this long.
# (Django's one-time token: it stops working once the password is set or the operator signs in.)
PASSWORD_RESET_TIMEOUT = env.int("ADMINUI_PASSWORD_LINK_TTL", default=72 * 3600)  # seconds
if ADMINUI_OIDC_ISSUER:
    # Logging out is a form POST that ends at the IdP's end-session page: browsers apply form-action to the
    # redirect too, so the IdP's origin must be allowed (its end-session endpoint lives there for Okta, Entra ID
    # and Keycloak).
    from urllib.parse import urlsplit as _urlsplit

    _idp = _urlsplit(ADMINUI_OIDC_ISSUER)
    SECURE_CSP["form-action"] = [*SECURE_CSP["form-action"], f"{_idp.scheme}://{_idp.netloc}"]

# Second factor (TOTP, django-otp) for local-password operators: set up at /account/two-factor/, then asked for
# after the password. Required for local admins when DEBUG is off, unless ADMINUI_TOTP_WAIVED=1 — dangerous: a
# leaked admin password alone then opens every instance's admin token. (Test runs are exempt; the tests that cover
# it turn it on.)
INSTALLED_APPS += ["django_otp", "django_otp.plugins.otp_totp"]
MIDDLEWARE += ["apps.accounts.middleware.TwoFactorRequiredMiddleware"]
ADMINUI_TOTP_REQUIRED = not DEBUG and not TESTING and not env.bool("ADMINUI_TOTP_WAIVED", default=False)
OTP_TOTP_ISSUER = "adminui"

# ---------------------------------------------------------------------------
# Hardening: what the console accepts from uploads and upstream answers, and where it may connect (docs/security.md)
# ---------------------------------------------------------------------------
# Every JSON read from an upload or an upstream answer is refused past this nesting depth before it is parsed
# (parsers pay depth² for deeper documents). Real app exports nest a few dozen levels.
ADMINUI_JSON_MAX_DEPTH = env.int("ADMINUI_JSON_MAX_DEPTH", default=512)
# Error reports (the DEBUG page, mails to ADMINS) hide connection tokens in every frame, in DEBUG too.
DEFAULT_EXCEPTION_REPORTER_FILTER = "apps.connections.reporting.TokenSafeExceptionReporterFilter"
# Outbound policy. Cloud metadata services and link-local addresses are never connected to; loopback (any
# spelling) only in DEBUG and tests (the simulators); the console's own ALLOWED_HOSTS never in production. Checked
# when a connection is saved and again at every connect, by resolved address. Entries here (host names, addresses
# or networks, e.g. "tooljet.internal,10.0.0.0/8,[::1]") are allowed anyway — DANGEROUS: only what you mean to reach.
ADMINUI_OUTBOUND_ALLOW = env.list("ADMINUI_OUTBOUND_ALLOW", default=[])
ADMINUI_OUTBOUND_ALLOW_LOOPBACK = env.bool("ADMINUI_OUTBOUND_ALLOW_LOOPBACK", default=DEBUG or TESTING)
ADMINUI_OUTBOUND_REFUSE_OWN_HOSTS = env.bool(
    "ADMINUI_OUTBOUND_REFUSE_OWN_HOSTS", default=not (DEBUG or TESTING)
)
# Plain http:// sends the token unencrypted: refused in production unless set.
ADMINUI_ALLOW_HTTP = env.bool("ADMINUI_ALLOW_HTTP", default=DEBUG or TESTING)
