"""Settings for the partnership manager: one env-driven module.

The defaults run on a laptop with nothing installed but Python (SQLite in var/, a
Celery broker on the filesystem, email written to var/mail/). Production is selected
with DJANGO_ENV=production and refuses to start without a real SECRET_KEY and
ALLOWED_HOSTS; it takes PostgreSQL, Redis and SMTP from the environment.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()
VAR_DIR.mkdir(parents=True, exist_ok=True)

DJANGO_ENV = env.str("DJANGO_ENV", default="development")
if DJANGO_ENV not in {"development", "production", "test"}:
    raise ImproperlyConfigured(f"Unexpected DJANGO_ENV={DJANGO_ENV!r}: use development, production or test.")
PRODUCTION = DJANGO_ENV == "production"

DEBUG = env.bool("DJANGO_DEBUG", default=DJANGO_ENV == "development")
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DJANGO_DEBUG must be off in production.")

_DEV_SECRET_KEY = "django-insecure-development-only-key-never-use-in-production"
SECRET_KEY = env.str("SECRET_KEY", default="")
if PRODUCTION and (len(SECRET_KEY) < 50 or SECRET_KEY.startswith("django-insecure") or len(set(SECRET_KEY)) < 5):
    raise ImproperlyConfigured(
        "Production needs SECRET_KEY: at least 50 random characters "
        '(python -c "import secrets; print(secrets.token_urlsafe(50))").'
    )
SECRET_KEY = SECRET_KEY or _DEV_SECRET_KEY

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=[] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]", "testserver"]
)
if PRODUCTION and (not ALLOWED_HOSTS or "*" in ALLOWED_HOSTS):
    raise ImproperlyConfigured("Production needs ALLOWED_HOSTS naming the site's real host names.")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",
    "allauth",
    "allauth.account",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "accounts",
    "notifications",
    "partnerships",
    "programs",
    "internships",
    "evaluations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "config.middleware.reject_malformed_input",
    "accounts.middleware.organization_time_zone",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.session_timeouts",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.middleware.login_required_by_default",
]

# Form widgets render through TEMPLATES, so templates/django/forms/ can replace a widget's
# template (select.html writes its options out rather than including a template per option);
# config.forms.FormRenderer writes plain selects' markup in Python, as that template does.
FORM_RENDERER = "config.forms.FormRenderer"

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "accounts.context_processors.navigation",
            ],
        },
    },
    {
        # Plain-text email (bodies and subjects): nothing to escape, so "D'Angelo & Sons"
        # arrives as typed. HTML bodies still render through the escaping engine above.
        "NAME": "text",
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {"autoescape": False},
    },
]

# Database: SQLite in var/ by default, PostgreSQL through DATABASE_URL.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE makes a write transaction take the write lock up front, so two
    # processes never deadlock upgrading a read lock (healthchecks does the same).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20, "init_command": "PRAGMA journal_mode=WAL;"}
    )
    # A file, not memory, so a Celery worker started by a test sees the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # PostgreSQL's default random_page_cost (4) prices an index lookup for a spinning disk. On
    # SSD, or with the tables in memory, the planner then scans every survey answer rather than
    # look up a few hundred (22.9 ms against 0.9 ms for a report's survey block at 1/10 of a
    # state; bench/README.md). 1.1 is the usual figure for SSD. PG_RANDOM_PAGE_COST= (empty)
    # keeps the server's own setting, e.g. behind PgBouncer, which refuses startup options.
    PG_RANDOM_PAGE_COST = env.str("PG_RANDOM_PAGE_COST", default="1.1")
    if PG_RANDOM_PAGE_COST:
        try:
            cost = float(PG_RANDOM_PAGE_COST)
        except ValueError:
            cost = -1.0
        if not 0 < cost <= 100:
            raise ImproperlyConfigured(f"PG_RANDOM_PAGE_COST={PG_RANDOM_PAGE_COST!r} is not a cost between 0 and 100.")
        db_options = DATABASES["default"].setdefault("OPTIONS", {})
        db_options["options"] = f"{db_options.get('options', '')} -c random_page_cost={cost}".strip()
    # Prepared statements: a query the connection has run PG_PREPARE_THRESHOLD times is prepared
    # on the server, and PostgreSQL stops planning it afresh once its generic plan is as cheap
    # as the custom ones. At full state size the coordinator dashboard's SELECTs spent 29 ms
    # planning against 52 ms executing (bench/hotspots.py --plans).
    # Needs server-side parameter binding. PG_PREPARE_THRESHOLD= (empty) turns both off, as
    # behind PgBouncer in transaction mode before 1.21 (or without max_prepared_statements).
    PG_PREPARE_THRESHOLD = env.str("PG_PREPARE_THRESHOLD", default="5")
    if PG_PREPARE_THRESHOLD:
        if not PG_PREPARE_THRESHOLD.isdigit():
            raise ImproperlyConfigured(
                f"PG_PREPARE_THRESHOLD={PG_PREPARE_THRESHOLD!r} is not a whole number of executions (0 or more)."
            )
        db_options = DATABASES["default"].setdefault("OPTIONS", {})
        db_options["server_side_binding"] = True
        db_options["prepare_threshold"] = int(PG_PREPARE_THRESHOLD)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache: rate limits need one cache shared by every process. On a laptop that is a
# folder; in production Redis (CACHE_URL=redis://...).
CACHES = {"default": env.cache_url("CACHE_URL", default=f"filecache://{VAR_DIR / 'cache'}")}
if CACHES["default"]["BACKEND"] in ("django_redis.cache.RedisCache", "django.core.cache.backends.redis.RedisCache"):
    CACHES["default"]["BACKEND"] = "config.redis_cache.RedisCache"  # Django's, one client per pool
    CACHES["default"].setdefault("OPTIONS", {}).update({"socket_timeout": 2, "socket_connect_timeout": 1})
# Home panels and reports are kept in that cache until a table they read is written
# (config/tablecache.py), and in any case no longer than this; 0 computes them on every request.
TABLE_CACHE_SECONDS = env.int("TABLE_CACHE_SECONDS", default=600)
if TABLE_CACHE_SECONDS < 0:
    raise ImproperlyConfigured("TABLE_CACHE_SECONDS must be 0 (off) or a number of seconds.")
# Logs that every read of students' records writes to (a row per record an agency reads): their
# writes renew no generation, and a figure that reads them is never kept.
TABLE_CACHE_UNTRACKED = ("internships_studentrecordaccess",)
# The API lists keep their SQL per shape of reader (config/compiled.py). With this on, every list
# read that way also builds the reader's own query and fails if the two differ (on in the tests).
COMPILED_QUERIES_CHECK = env.bool("COMPILED_QUERIES_CHECK", default=False)

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "landing"

# django-allauth: email is the login, verification is mandatory, and nobody signs up
# without an invitation (accounts.adapters.AccountAdapter).
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Partnerships] "
ACCOUNT_RATE_LIMITS = {
    "login_failed": "10/m/ip,5/5m/key",
    "login": "30/m/ip",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "confirm_email": "1/3m/key",
}
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# Sessions end after 30 minutes without a request and 12 hours after sign-in, whatever the
# activity (NIST SP 800-63B AAL2; ASVS 7.3.1, 7.3.2): accounts.middleware.session_timeouts.
SESSION_IDLE_TIMEOUT = env.int("SESSION_IDLE_TIMEOUT", default=30 * 60)
SESSION_ABSOLUTE_TIMEOUT = env.int("SESSION_ABSOLUTE_TIMEOUT", default=12 * 60 * 60)
if not 60 <= SESSION_IDLE_TIMEOUT <= SESSION_ABSOLUTE_TIMEOUT:
    raise ImproperlyConfigured("SESSION_IDLE_TIMEOUT must be at least 60 seconds and at most SESSION_ABSOLUTE_TIMEOUT.")
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=SESSION_ABSOLUTE_TIMEOUT)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# No script reads the CSRF cookie (forms and htmx send the token from the page).
CSRF_COOKIE_HTTPONLY = True

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "America/New_York"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": VAR_DIR / "private", "base_url": None},
    },
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Uploaded files are private: they are served only through authorized views.
MEDIA_ROOT = VAR_DIR / "private"
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
# The whole body of an upload (the largest file is 10 MB): refused with 413 before it is read.
REQUEST_MAX_BODY_BYTES = env.int("REQUEST_MAX_BODY_BYTES", default=11 * 1024 * 1024)

# Email: Django 6.1 mailers. Files in var/mail/ (one line per message on the console)
# by default; SMTP when SMTP_URL is set (smtp://user:password@host:587 or smtps://...).
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Partnerships <no-reply@partnerships.test>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
MAIL_FILE_PATH = env.str("MAIL_FILE_PATH", default=str(VAR_DIR / "mail"))
_smtp = env.url("SMTP_URL", default="")
if _smtp and _smtp.hostname:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": _smtp.hostname,
                "port": _smtp.port or 587,
                "username": _smtp.username or "",
                "password": _smtp.password or "",
                "use_tls": _smtp.scheme == "smtp" and (_smtp.port or 587) == 587,
                "use_ssl": _smtp.scheme == "smtps",
                "timeout": 10,
            },
        }
    }
else:
    MAILERS = {
        "default": {
            "BACKEND": "notifications.mail.FolderEmailBackend",
            "OPTIONS": {"file_path": MAIL_FILE_PATH},
        }
    }

# Celery: a broker on the filesystem by default (no server to install), Redis in
# production. The publish after a booking's commit runs inside the request, so a dead or
# frozen Redis must fail it fast, and hold a web thread as little as it can: 0.5 s socket
# timeouts and one retry give up after about 1.3 s (measured with CLIENT PAUSE; 2 s and two
# retries took 8.5 s, and 20 bookings at once queued behind each other past 6 s). Redis
# answers in well under a millisecond when it is well. The outbox sweep then delivers
# what was not published (docs/faults.md).
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://localhost//")
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="celery")
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,  # one reconnect, for a pooled connection Redis dropped on a restart
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "socket_timeout": 0.5,
        "socket_connect_timeout": 0.5,
        "max_retries": 1,
        # acks_late: a message a worker took and did not acknowledge comes back after this.
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
    }
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
OUTBOX_SWEEP_SECONDS = env.int("OUTBOX_SWEEP_SECONDS", default=60)
# Retention (accounts.retention, nightly; docs/security.md). Student data an agency received is
# kept for the period the agreement's data-sharing term gives its category, counted from the
# day the application or placement closed, or RETENTION_DEFAULT_DAYS when no term names one.
RETENTION_DEFAULT_DAYS = env.int("RETENTION_DEFAULT_DAYS", default=365)
RETENTION_SURVEY_CONTACT_DAYS = env.int("RETENTION_SURVEY_CONTACT_DAYS", default=30)  # after a survey closes
RETENTION_OUTBOX_DAYS = env.int("RETENTION_OUTBOX_DAYS", default=90)
# The record of disclosures (StudentRecordAccess) and the audit log outlive the data they describe.
RETENTION_ACCESS_LOG_DAYS = env.int("RETENTION_ACCESS_LOG_DAYS", default=6 * 365)
RETENTION_AUDIT_DAYS = env.int("RETENTION_AUDIT_DAYS", default=6 * 365)
OUTBOX_SENDING_TIMEOUT_SECONDS = env.int("OUTBOX_SENDING_TIMEOUT_SECONDS", default=600)
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=8)

INVITATION_VALID_DAYS = env.int("INVITATION_VALID_DAYS", default=14)

# Django REST framework: the same scopes as the pages, JSON errors, paginated lists.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: an anonymous request then gets 401 with WWW-Authenticate.
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "config.api.Pagination",
    "PAGE_SIZE": 25,
    "DEFAULT_FILTER_BACKENDS": ["config.filters.FilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    "DEFAULT_PARSER_CLASSES": [
        "config.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + ([] if PRODUCTION else ["rest_framework.renderers.BrowsableAPIRenderer"]),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Partnerships API",
    "DESCRIPTION": ("Agreements, workshops, internships and evaluations shared by police agencies and schools."),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "ENUM_NAME_OVERRIDES": {
        "MembershipRoleEnum": "accounts.enums.Role",
        "PartyRoleEnum": "partnerships.enums.PartyRole",
        "ResponsibilityKindEnum": "partnerships.enums.ResponsibilityKind",
        "BlackoutKindEnum": "programs.enums.BlackoutKind",
        "SessionStatusEnum": "programs.enums.SessionStatus",
        "BookingStatusEnum": "programs.enums.BookingStatus",
        "RequestStatusEnum": "programs.enums.RequestStatus",
        "GradeLevelEnum": "accounts.enums.GradeLevel",
        "PostingStatusEnum": "internships.enums.PostingStatus",
        "ApplicationStatusEnum": "internships.enums.ApplicationStatus",
        "RejectionReasonEnum": "internships.enums.RejectionReason",
        "InterviewStatusEnum": "internships.enums.InterviewStatus",
        "OfferStatusEnum": "internships.enums.OfferStatus",
        "ConsentStatusEnum": "internships.enums.ConsentStatus",
        "PlacementStatusEnum": "internships.enums.PlacementStatus",
        "HoursStatusEnum": "internships.enums.HoursStatus",
        "CheckInStatusEnum": "internships.enums.CheckInStatus",
        "TargetStatusEnum": "evaluations.enums.TargetStatus",
        "TargetDirectionEnum": "evaluations.enums.Direction",
        "MeasurementStatusEnum": "evaluations.enums.MeasurementStatus",
        "SurveyStatusEnum": "evaluations.enums.SurveyStatus",
    },
}

# Security headers. CSP is strict: no inline script or style; a nonce where a
# third-party template needs one.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "config.logging.RedactTokensFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]},
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # At DEBUG it logs every missing template variable with the whole context: reset keys,
        # email addresses and names. Kept at INFO even when LOG_LEVEL=DEBUG.
        "django.template": {"level": "INFO"},
        "django.server": {"level": "INFO", "handlers": ["console"], "propagate": False},
    },
}

ACCOUNT_SIGNUP_FORM_CLASS = "accounts.forms.SignupForm"
