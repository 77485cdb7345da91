"""Django settings, 12-factor: everything that differs between machines comes from the environment.

DATABASE_URL   default: a SQLite file `pilotage.sqlite3` in the working directory
SECRET_KEY     required when DEBUG=0
DEBUG          0/1 (default 0)
ALLOWED_HOSTS  comma-separated (default: localhost names)
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on", "oui"}


DEBUG = env_bool("DEBUG", False)
_INSECURE_KEY = "django-insecure-pilotage-demo-key-do-not-use-in-production"
SECRET_KEY = os.environ.get("SECRET_KEY") or _INSECURE_KEY
if SECRET_KEY == _INSECURE_KEY and not DEBUG and env_bool("PILOTAGE_PRODUCTION", False):
    raise ImproperlyConfigured("SECRET_KEY doit être défini en production.")


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "widget_tweaks",
    "dsfr",
    "ninja",  # serves the API docs (Swagger UI) from its static files, not a CDN
    "pilotage.core",
    "pilotage.accounts",
    "pilotage.geo",
    "pilotage.programme",
    "pilotage.projects",
    "pilotage.stats",
    "pilotage.opendata",
    "pilotage.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "pilotage.core.security.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "pilotage.web.middleware.FrenchUnlessChosen",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "pilotage.accounts.middleware.ApiTokenMiddleware",
    "pilotage.core.uploads.RequestSizeLimitMiddleware",  # before the CSRF check reads a too large body
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "pilotage.urls"
WSGI_APPLICATION = "pilotage.wsgi.application"

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
                "django.template.context_processors.i18n",
                "pilotage.web.context_processors.site",
                "pilotage.opendata.demo.demo_context",
            ],
        },
    }
]
FORM_RENDERER = "dsfr.forms.DsfrDjangoTemplates"

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{Path.cwd() / 'pilotage.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers proceed while one writer writes; IMMEDIATE transactions plus a busy
    # timeout make concurrent writers wait for each other instead of failing.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"].setdefault("TEST", {})["NAME"] = os.environ.get("PILOTAGE_TEST_SQLITE") or None

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:home"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("Français")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", Path.cwd() / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", Path.cwd() / "media"))
MEDIA_URL = "/media/"

DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "pilotage@localhost")

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG and env_bool("PILOTAGE_HTTPS", False):
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)  # the header only allows submission to the list
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

# Shown on every page while the database holds generated demonstration data.
PILOTAGE_SITE_NAME = "Pilotage — Territoires d'industrie"
# Whole-programme figures read from their running totals by date (stats/ledger.py); 0 computes them from the records
# on every request (the totals stay maintained).
PILOTAGE_FIGURES_TOTALS = env_bool("PILOTAGE_FIGURES_TOTALS", True)

# Largest document (PDF) a form accepts, in bytes (default 10 Mo); see pilotage.core.uploads.
PILOTAGE_UPLOAD_MAX_BYTES = int(os.environ.get("PILOTAGE_UPLOAD_MAX_BYTES") or 10 * 1024 * 1024)

# Import limits (spreadsheets and CSV): bytes on disk, bytes once unzipped, columns and rows per sheet.
PILOTAGE_IMPORT_MAX_BYTES = int(os.environ.get("PILOTAGE_IMPORT_MAX_BYTES") or 50 * 1024 * 1024)
PILOTAGE_IMPORT_MAX_UNCOMPRESSED_BYTES = int(
    os.environ.get("PILOTAGE_IMPORT_MAX_UNCOMPRESSED_BYTES") or 10 * PILOTAGE_IMPORT_MAX_BYTES
)
PILOTAGE_IMPORT_MAX_COLUMNS = int(os.environ.get("PILOTAGE_IMPORT_MAX_COLUMNS") or 500)
PILOTAGE_IMPORT_MAX_ROWS = int(os.environ.get("PILOTAGE_IMPORT_MAX_ROWS") or 200_000)
# The web import checks and writes files above this size in a background job with a progress page
# (opendata/jobs.py); a job whose heartbeat is older than the stale delay is declared interrupted.
PILOTAGE_IMPORT_INLINE_MAX_BYTES = int(os.environ.get("PILOTAGE_IMPORT_INLINE_MAX_BYTES") or 100 * 1024)
PILOTAGE_IMPORT_JOB_STALE_SECONDS = int(os.environ.get("PILOTAGE_IMPORT_JOB_STALE_SECONDS") or 120)

# Login throttling (pilotage.accounts.throttle), counted in the database so that every app server sees it: past the
# limit within the window, the account, network or form is refused for the lock delay. A limit of 0 turns a rule off.
PILOTAGE_THROTTLE_WINDOW_SECONDS = int(os.environ.get("PILOTAGE_THROTTLE_WINDOW_SECONDS") or 15 * 60)
PILOTAGE_THROTTLE_LOCK_SECONDS = int(os.environ.get("PILOTAGE_THROTTLE_LOCK_SECONDS") or 15 * 60)
PILOTAGE_LOGIN_FAILURES_PER_ACCOUNT = int(os.environ.get("PILOTAGE_LOGIN_FAILURES_PER_ACCOUNT") or 5)
PILOTAGE_LOGIN_FAILURES_PER_IP = int(os.environ.get("PILOTAGE_LOGIN_FAILURES_PER_IP") or 30)
PILOTAGE_PASSWORD_RESETS_PER_IP = int(os.environ.get("PILOTAGE_PASSWORD_RESETS_PER_IP") or 10)
PILOTAGE_PASSWORD_RESETS_PER_ADDRESS = int(os.environ.get("PILOTAGE_PASSWORD_RESETS_PER_ADDRESS") or 3)
PILOTAGE_API_TOKEN_FAILURES_PER_IP = int(os.environ.get("PILOTAGE_API_TOKEN_FAILURES_PER_IP") or 30)
# Reverse proxies in front of the app, each appending to X-Forwarded-For: the client address is read there. Behind
# TLS (PILOTAGE_HTTPS=1) the deployment puts one in front (docs/deployment.md); 0 reads REMOTE_ADDR.
PILOTAGE_PROXY_COUNT = int(os.environ.get("PILOTAGE_PROXY_COUNT") or (1 if env_bool("PILOTAGE_HTTPS", False) else 0))
