"""Django settings. Every value comes from the environment; the README's configuration table lists them."""

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


GUANXI_ENV = env("GUANXI_ENV", "development")
if GUANXI_ENV not in {"development", "test", "production"}:
    raise ImproperlyConfigured("GUANXI_ENV must be development, test or production")
DEVELOPMENT = GUANXI_ENV != "production"

PLACEHOLDER_SECRET_KEY = "guanxi-development-only-secret-key-change-me"  # noqa: S105
SECRET_KEY = env("GUANXI_SECRET_KEY", PLACEHOLDER_SECRET_KEY)
if not DEVELOPMENT and (SECRET_KEY == PLACEHOLDER_SECRET_KEY or len(SECRET_KEY) < 32):
    raise ImproperlyConfigured(
        "GUANXI_SECRET_KEY must be set to a random value of at least 32 characters in production "
        f"(for example: {secrets.token_urlsafe(48)})"
    )

DEBUG = env_bool("GUANXI_DEBUG", DEVELOPMENT)
ALLOWED_HOSTS = env_list("GUANXI_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]" if DEVELOPMENT else "")
CSRF_TRUSTED_ORIGINS = env_list("GUANXI_CSRF_TRUSTED_ORIGINS", "")

DATA_DIR = Path(env("GUANXI_DATA_DIR", str(PROJECT_DIR / "var"))).resolve()

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "ninja",  # serves the API docs' Swagger UI from its own static files instead of a CDN
    "axes",
    "django_tasks",
    "django_tasks_db",
    "guanxi.core",
    "guanxi.accounts",
    "guanxi.customers",
    "guanxi.commerce",
    "guanxi.segments",
    "guanxi.imports",
    "guanxi.notifications",
    "guanxi.ownership",
    "guanxi.search",
    "guanxi.privacy",
    "guanxi.engagement",
    "guanxi.followups",
    "guanxi.lifecycle",
    "guanxi.integrations",
    "guanxi.automation",
    "guanxi.tickets",
    "guanxi.sla",
    "guanxi.surveys",
    "guanxi.quality",
    "guanxi.loyalty",
    "guanxi.offers",
    "guanxi.deals",
    "guanxi.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "guanxi.core.middleware.RequestContextMiddleware",
    "guanxi.web.middleware.DomainErrorMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "guanxi.urls"
WSGI_APPLICATION = "guanxi.wsgi.application"
ASGI_APPLICATION = "guanxi.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "guanxi.web.context.navigation",
            ],
        },
    }
]

# Database: SQLite under DATA_DIR by default; DATABASE_URL=postgres://... for PostgreSQL.
DATABASE_URL = env("DATABASE_URL", f"sqlite:///{DATA_DIR / 'guanxi.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=int(env("GUANXI_DB_CONN_MAX_AGE", "60")))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the writer; IMMEDIATE makes writers queue for the lock at BEGIN instead of
    # failing half-way with "database is locked" (see STYLE.md section 3).
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "web:dashboard"
LOGOUT_REDIRECT_URL = "login"

# Login throttling (django-axes): lock a username+IP pair after repeated failures.
AXES_FAILURE_LIMIT = int(env("GUANXI_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(env("GUANXI_LOGIN_COOLOFF_HOURS", "0.25"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("GUANXI_SECURE_COOKIES", not DEVELOPMENT)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

LANGUAGE_CODE = env("GUANXI_LANGUAGE", "en")
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = env("GUANXI_TIME_ZONE", "Asia/Shanghai")
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "guanxi.web.staticfinders.VendorFinder",
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_ROOT = DATA_DIR / "media"

# Background jobs (imports, scheduled scoring, reminders) through Django's task interface. The database backend
# needs no broker: `guanxi serve` starts a worker beside the web server, or run `guanxi worker` on its own.
TASKS = {
    "default": {
        "BACKEND": env("GUANXI_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default", "imports"],
    }
}

EMAIL_BACKEND = env("GUANXI_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("GUANXI_FROM_EMAIL", "guanxi@localhost")
# SMTP, for GUANXI_EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend.
EMAIL_HOST = env("GUANXI_EMAIL_HOST", "localhost")
EMAIL_PORT = int(env("GUANXI_EMAIL_PORT", "25"))
EMAIL_HOST_USER = env("GUANXI_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = env("GUANXI_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = env_bool("GUANXI_EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("GUANXI_EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = 30
# Also e-mail in-app notifications (ownership warnings, transfer decisions ...) to the user, after commit.
GUANXI_NOTIFICATION_EMAILS = env_bool("GUANXI_NOTIFICATION_EMAILS", False)

# Guanxi's own settings.
GUANXI_DEFAULT_CURRENCY = env("GUANXI_DEFAULT_CURRENCY", "CNY")
GUANXI_PHONE_REGION = env("GUANXI_PHONE_REGION", "CN")
GUANXI_PAGE_SIZE = int(env("GUANXI_PAGE_SIZE", "25"))
GUANXI_API_MAX_PAGE_SIZE = 200
# Imports: files above this size are refused; an .xlsx is refused before parsing when it unpacks to more than
# GUANXI_IMPORT_MAX_XLSX_UNCOMPRESSED bytes or is compressed more than GUANXI_IMPORT_MAX_XLSX_RATIO times.
GUANXI_IMPORT_MAX_BYTES = int(env("GUANXI_IMPORT_MAX_MB", "50")) * 1024 * 1024
GUANXI_IMPORT_MAX_XLSX_UNCOMPRESSED = 200 * 1024 * 1024
GUANXI_IMPORT_MAX_XLSX_RATIO = 100
# The address users reach Guanxi at (e.g. https://crm.example.com): e-mails (follow-up reminders) link to it.
GUANXI_BASE_URL = env("GUANXI_BASE_URL", "")
GUANXI_ATTACHMENT_MAX_BYTES = int(env("GUANXI_ATTACHMENT_MAX_MB", "10")) * 1024 * 1024
# Webhooks: loopback and private destinations are refused unless an admin allows them per endpoint or here;
# GUANXI_WEBHOOK_CA_BUNDLE names extra CA certificates for receivers behind a private CA.
GUANXI_WEBHOOK_ALLOW_PRIVATE = env_bool("GUANXI_WEBHOOK_ALLOW_PRIVATE", False)
GUANXI_WEBHOOK_CA_BUNDLE = env("GUANXI_WEBHOOK_CA_BUNDLE", "") or None

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("GUANXI_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
AXES_VERBOSE = False
LOGGING["loggers"]["axes"] = {"level": "WARNING"}
