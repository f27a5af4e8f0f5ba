"""Django settings, read from the environment so one build serves a laptop demo and a haven.

Environment variables:
- ``HAVENKIT_HOME``: where this instance keeps its SQLite database, data store and keys
  (default ``./.havenkit``).
- ``DATABASE_URL``: a PostgreSQL URL; when unset the embedded SQLite database is used.
- ``HAVENKIT_SECRET_KEY``: Django's secret key; when unset one is generated into
  ``HAVENKIT_HOME/secret_key`` on first run, so it is never committed.
- ``HAVENKIT_DEBUG``: ``1`` turns Django's debug mode on; off by default.
- ``HAVENKIT_SESSION_IDLE_MINUTES``: sessions end after this much inactivity (default 30).
- ``HAVENKIT_ALLOWED_HOSTS``: comma-separated host names (default loopback only).
- ``HAVENKIT_HTTPS``: ``1`` when the portal is reached over HTTPS (every haven but a laptop
  demo): cookies only over TLS, HSTS, plain HTTP redirected. ``HAVENKIT_BEHIND_PROXY=1`` trusts
  the TLS-terminating proxy's ``X-Forwarded-Proto``; ``HAVENKIT_CSRF_TRUSTED_ORIGINS`` lists
  the portal's public origins (``https://haven.example.org``) when a proxy changes the host.
- ``HAVENKIT_EMAIL_*``: the SMTP server for reminders and account e-mails (see below).

The full list, with every job and Slurm setting, is in docs/operations.md.
"""

import json
import os
import secrets
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent
HAVENKIT_HOME = Path(os.environ.get("HAVENKIT_HOME", ".havenkit")).resolve()
HAVENKIT_HOME.mkdir(parents=True, exist_ok=True, mode=0o700)


def _secret_key() -> str:
    """Return the secret key from the environment or from HAVENKIT_HOME, creating it once."""
    if key := os.environ.get("HAVENKIT_SECRET_KEY"):
        return key
    key_file = HAVENKIT_HOME / "secret_key"
    if not key_file.exists():
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(64))
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = os.environ.get("HAVENKIT_DEBUG") == "1"
ALLOWED_HOSTS = os.environ.get("HAVENKIT_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(
    ","
)

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "havenkit.core",
    "havenkit.people",
    "havenkit.projects",
    "havenkit.data",
    "havenkit.workspaces",
    "havenkit.outputs",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "havenkit.core.middleware.RequireSecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "havenkit.urls"
WSGI_APPLICATION = "havenkit.wsgi.application"
AUTH_USER_MODEL = "people.User"
LOGIN_URL = "people:login"
CSRF_FAILURE_VIEW = "havenkit.core.views.csrf_failure"
LOGIN_REDIRECT_URL = "core:home"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
            "builtins": ["havenkit.core.templatetags.permissions"],
        },
    }
]

if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=60)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": HAVENKIT_HOME / "havenkit.sqlite3",
            # IMMEDIATE takes the write lock when a transaction starts, so the audit chain's
            # read-last-hash-then-append is never interleaved with another writer.
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 30},
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Sessions end after a period of inactivity: every request pushes the expiry forward.
SESSION_IDLE_MINUTES = int(os.environ.get("HAVENKIT_SESSION_IDLE_MINUTES", "30"))
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"

# Over HTTPS, session and CSRF cookies never travel in clear, browsers are told to keep to
# HTTPS for a year, and a plain-HTTP request is redirected. Off for the loopback demo only.
HTTPS = os.environ.get("HAVENKIT_HTTPS") == "1"
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = int(os.environ.get("HAVENKIT_HSTS_SECONDS", "31536000")) if HTTPS else 0
if os.environ.get("HAVENKIT_BEHIND_PROXY") == "1":
    # Only behind a proxy that sets this header itself; otherwise a client could forge it.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_TRUSTED_ORIGINS = [
    origin for origin in os.environ.get("HAVENKIT_CSRF_TRUSTED_ORIGINS", "").split(",") if origin
]

# The haven's name: shown in authenticator apps and written into every signed release record.
HAVEN_NAME = os.environ.get("HAVENKIT_HAVEN_NAME", "havenkit")
OTP_TOTP_ISSUER = HAVEN_NAME

# Failed logins allowed per username or address inside the window before further tries wait.
LOGIN_FAILURE_LIMIT = int(os.environ.get("HAVENKIT_LOGIN_FAILURE_LIMIT", "5"))
LOGIN_FAILURE_WINDOW_MINUTES = int(os.environ.get("HAVENKIT_LOGIN_FAILURE_WINDOW_MINUTES", "15"))

# The public register names principal investigators only when the haven chooses to.
HAVENKIT_REGISTER_SHOWS_PI = os.environ.get("HAVENKIT_REGISTER_SHOWS_PI") == "1"
# Votes a review panel needs before its chair can record the outcome.
HAVENKIT_PANEL_QUORUM = int(os.environ.get("HAVENKIT_PANEL_QUORUM", "2"))
# Triage rules that replace the defaults in havenkit.projects.triage, as a JSON object.
HAVENKIT_TRIAGE = json.loads(os.environ.get("HAVENKIT_TRIAGE", "null"))
# Days a closed project's workspace is kept, read-only, before its files are deleted.
HAVENKIT_RETENTION_DAYS = int(os.environ.get("HAVENKIT_RETENTION_DAYS", "365"))

# Reminders (accreditation expiry) go to the console unless a haven configures real e-mail.
EMAIL_BACKEND = os.environ.get(
    "HAVENKIT_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = os.environ.get("HAVENKIT_FROM_EMAIL", "havenkit@localhost")
# With HAVENKIT_EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend: the haven's relay.
EMAIL_HOST = os.environ.get("HAVENKIT_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("HAVENKIT_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("HAVENKIT_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("HAVENKIT_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = os.environ.get("HAVENKIT_EMAIL_STARTTLS") == "1"
EMAIL_TIMEOUT = 30

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = HAVENKIT_HOME / "static"
STATIC_ROOT.mkdir(exist_ok=True)
NODE_MODULES = Path(
    os.environ.get("HAVENKIT_NODE_MODULES", BASE_DIR.parent.parent / "node_modules")
)
STATICFILES_DIRS = [
    ("nhsuk", NODE_MODULES / "nhsuk-frontend" / "dist" / "nhsuk"),
    ("htmx", NODE_MODULES / "htmx.org" / "dist"),
    ("codejar", NODE_MODULES / "codejar" / "dist"),
    ("highlightjs", NODE_MODULES / "@highlightjs" / "cdn-assets" / "es"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# Largest code file a researcher may upload into a workspace.
MAX_CODE_FILE_BYTES = int(os.environ.get("HAVENKIT_MAX_CODE_FILE_BYTES", str(1024 * 1024)))
# How many jobs one worker runs at once.
WORKER_CONCURRENCY = int(os.environ.get("HAVENKIT_WORKER_CONCURRENCY", "2"))
# Limits of every job in the sandbox (read by havenkit.workspaces.worker).
JOB_WALL_SECONDS = float(os.environ.get("HAVENKIT_JOB_WALL_SECONDS", "3600"))
JOB_CPU_SECONDS = int(os.environ.get("HAVENKIT_JOB_CPU_SECONDS", "3600"))
JOB_MEMORY_BYTES = int(os.environ.get("HAVENKIT_JOB_MEMORY_BYTES", str(4 * 1024**3)))
JOB_MAX_PROCESSES = int(os.environ.get("HAVENKIT_JOB_MAX_PROCESSES", "64"))
JOB_OUTPUT_BYTES = int(os.environ.get("HAVENKIT_JOB_OUTPUT_BYTES", str(1024**3)))
# The unprivileged host account jobs run as when havenkit runs as root.
JOB_USER = os.environ.get("HAVENKIT_JOB_USER", "nobody")
# "local" runs jobs on this machine; "slurm" submits them to a Slurm cluster with sbatch.
EXECUTOR = os.environ.get("HAVENKIT_EXECUTOR", "local")
SLURM_PARTITION = os.environ.get("HAVENKIT_SLURM_PARTITION", "")
# How many jobs a worker keeps submitted to Slurm at once; the cluster decides how many run.
SLURM_MAX_SUBMITTED = int(os.environ.get("HAVENKIT_SLURM_MAX_SUBMITTED", "64"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("HAVENKIT_LOG_LEVEL", "INFO")},
}
