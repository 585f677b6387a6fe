"""Settings: defaults, then the environment, then values computed from both.

Every knob a deployment may turn is an environment variable named CASELOOP_*;
docs/architecture.md lists them. Code reads settings at call time through
django.conf.settings so tests can override them.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sys
from pathlib import Path
from typing import Any

import dj_database_url

from caseloop.core.clientaddr import trusted_proxies

BASE_DIR = Path(__file__).resolve().parent.parent  # the caseloop package
REPO_DIR = BASE_DIR.parent


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


# --- where data lives -------------------------------------------------------
if "CASELOOP_DATA_DIR" not in os.environ and "pytest" in sys.modules:
    # each test run (and xdist worker) writes attachments to its own folder
    import atexit
    import shutil
    import tempfile

    DATA_DIR = Path(tempfile.mkdtemp(prefix="caseloop-test-"))
    atexit.register(shutil.rmtree, DATA_DIR, ignore_errors=True)
else:
    DATA_DIR = Path(os.environ.get("CASELOOP_DATA_DIR", REPO_DIR / "var")).resolve()
ATTACHMENTS_DIR = DATA_DIR / "attachments"


def _read_key(key_file: Path) -> str:
    key = key_file.read_text().strip()
    if not key:  # an older caseloop that crashed between creating the file and writing it
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(f"{key_file} is empty: set CASELOOP_SECRET_KEY, or delete the file to make a "
                                   "new key (everyone signed in is signed out)")  # fmt: skip
    return key


def _secret_key(data_dir: Path) -> str:
    """The key from the environment, else one kept in the data folder.

    Kept on disk (not regenerated per process) so two app servers on one data
    folder sign sessions alike; production sets CASELOOP_SECRET_KEY. A new key
    is written whole under a name of its own, then linked into place, so
    processes starting at the same moment on a new folder find no key file or
    a whole one: never one still being written (read as an empty key, which
    left that process unable to sign anything).
    """
    from_env = os.environ.get("CASELOOP_SECRET_KEY")
    if from_env:
        return from_env
    key_file = data_dir / "secret_key"
    try:
        return _read_key(key_file)
    except FileNotFoundError:
        pass
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    draft = data_dir / f".secret_key.{os.getpid()}.{secrets.token_hex(8)}"
    _write_new(draft, key)
    try:
        os.link(draft, key_file)  # fails if another process was first: its key is the one
    except FileExistsError:
        pass
    except OSError:  # a file system without hard links: an exclusive create, which a reader may catch half done
        with contextlib.suppress(FileExistsError):
            _write_new(key_file, key)
    finally:
        draft.unlink()
    return _read_key(key_file)


def _write_new(path: Path, text: str) -> None:
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as handle:
        handle.write(text)


DEBUG = _env_bool("CASELOOP_DEBUG", False)
SECRET_KEY = _secret_key(DATA_DIR)
ALLOWED_HOSTS = _env_list("CASELOOP_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = _env_list("CASELOOP_CSRF_TRUSTED_ORIGINS", [])
SITE_URL = os.environ.get("CASELOOP_SITE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",  # serves the API docs page from local static files (the CSP allows no CDN)
    "django_tasks",
    "django_tasks_db",
    "caseloop.core",
    "caseloop.identity",
    "caseloop.timeline",
    "caseloop.customers",
    "caseloop.cases",
    "caseloop.channels.email",
    "caseloop.channels.webform",
    "caseloop.channels.chat",
    "caseloop.channels.phone",
    "caseloop.channels.sms",
    "caseloop.promises",
    "caseloop.policies",
    "caseloop.sla",
    "caseloop.pricing",
    "caseloop.feedback",
    "caseloop.insights",
    "caseloop.api",
    "caseloop.web",
    "caseloop.portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "caseloop.web.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "caseloop.config.middleware.RefuseNulMiddleware",  # after the CSRF check, which reads the form first
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # an empty 405 (a reload of a form's address) becomes a page in the app's look; the API's are its own
    "caseloop.web.middleware.MethodNotAllowedPageMiddleware",
]

ROOT_URLCONF = "caseloop.config.urls"
WSGI_APPLICATION = "caseloop.config.wsgi.application"
AUTH_USER_MODEL = "identity.User"
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"

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
        },
    }
]

# --- database ---------------------------------------------------------------
DATABASE_URL = os.environ.get("CASELOOP_DATABASE_URL", "")


def _database() -> dict[str, Any]:
    if DATABASE_URL:
        config: dict[str, Any] = dict(dj_database_url.parse(DATABASE_URL, conn_max_age=600))
        if config["ENGINE"] == "django.db.backends.postgresql":
            config["ENGINE"] = "caseloop.core.db.postgresql"  # Django's, reading with compiled loaders
            # Parameters sent apart from the SQL; a statement whose plan cannot vary (core.db.prepared says
            # which) is prepared on its connection after five runs, so the server plans a create's statements
            # once per connection, not per request (half of PostgreSQL's CPU per create, ADR 0073). A pooler
            # in transaction mode without prepared statements (PgBouncer < 1.21): CASELOOP_DATABASE_PREPARE=off.
            options = config.setdefault("OPTIONS", {})
            options.setdefault("server_side_binding", True)
            if _env_bool("CASELOOP_DATABASE_PREPARE", True):
                options.setdefault("prepare_threshold", 5)
        config.setdefault("TEST", {})
        return config
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    return {
        "ENGINE": "caseloop.core.db.sqlite3",  # Django's, with the write gate (core.writegate)
        "NAME": str(DATA_DIR / "caseloop.sqlite3"),
        # Keep each worker's connection open: closing the last connection to a
        # WAL database checkpoints it (tens of ms), which per request would cost
        # more than the request itself; reopening also re-runs the pragmas.
        "CONN_MAX_AGE": 600,
        # tests: an in-memory database per test process (said outright: pytest-django recognises
        # Django's own engine name only, and would otherwise name a test file per xdist worker)
        "TEST": {"NAME": ":memory:"},
        "OPTIONS": {
            # Writers take the lock at BEGIN, so two processes never deadlock
            # upgrading a read lock; WAL lets readers run beside one writer.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL;"
                "PRAGMA synchronous=NORMAL;"
                "PRAGMA foreign_keys=ON;"
                "PRAGMA busy_timeout=20000;"
                "PRAGMA cache_size=-64000;"
                "PRAGMA mmap_size=268435456;"
                "PRAGMA temp_store=MEMORY;"
            ),
        },
    }


DATABASES = {"default": _database()}
# SQLite: seconds between WAL checkpoints by each process's background thread (core.checkpoint); 0: SQLite's own
CASELOOP_WAL_CHECKPOINT_SECONDS = float(os.environ.get("CASELOOP_WAL_CHECKPOINT_SECONDS", "1"))
# SQLite: `caseloop serve`'s workers queue for the write lock at a shared gate (core.writegate); a writer waits
# this long for it before going on to SQLite's own lock; 0: no gate
CASELOOP_WRITE_GATE_SECONDS = float(os.environ.get("CASELOOP_WRITE_GATE_SECONDS", "2"))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- background work: django-tasks with its database backend -----------------
TASKS = {
    "default": {
        "BACKEND": os.environ.get("CASELOOP_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

# --- security ---------------------------------------------------------------
SESSION_COOKIE_AGE = int(os.environ.get("CASELOOP_SESSION_SECONDS", 60 * 60 * 12))
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# behind a proxy that terminates TLS (and sets X-Forwarded-Proto, replacing any the client sent): requests
# count as HTTPS, so HSTS is sent and cookies are HTTPS-only by default; a client's own header is never trusted
CASELOOP_TLS_PROXY = _env_bool("CASELOOP_TLS_PROXY", False)
if CASELOOP_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# the reverse proxies and load balancers in front of the app servers (addresses and networks, comma-separated):
# from these peers X-Forwarded-For names the client, for per-address limits and records (core.clientaddr); from
# any other peer the header is ignored. Unlike CASELOOP_TLS_PROXY this is safe on a server clients can also reach
# directly. A value that does not parse stops every process here, at start.
CASELOOP_TRUSTED_PROXIES = os.environ.get("CASELOOP_TRUSTED_PROXIES", "")
trusted_proxies(CASELOOP_TRUSTED_PROXIES)
SESSION_COOKIE_SECURE = _env_bool("CASELOOP_SECURE_COOKIES", CASELOOP_TLS_PROXY)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = int(os.environ.get("CASELOOP_HSTS_SECONDS", 0))  # Strict-Transport-Security on HTTPS answers
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("CASELOOP_MAX_BODY_BYTES", 10 * 1024 * 1024))
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# --- outgoing email (password resets now; replies by email later) ---------------
# With no SMTP host configured, mail is written to the log: a laptop install works
# without a mail server, and a reset link can still be read there.
EMAIL_HOST = os.environ.get("CASELOOP_EMAIL_HOST", "")
EMAIL_BACKEND = os.environ.get(
    "CASELOOP_EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_PORT = int(os.environ.get("CASELOOP_EMAIL_PORT", 587))
EMAIL_HOST_USER = os.environ.get("CASELOOP_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("CASELOOP_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = _env_bool("CASELOOP_EMAIL_USE_TLS", True)
DEFAULT_FROM_EMAIL = os.environ.get("CASELOOP_FROM_EMAIL", "caseloop <support@localhost>")
PASSWORD_RESET_TIMEOUT = 60 * 60 * 2

# --- i18n / time --------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("CASELOOP_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- static files -----------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# --- caseloop itself ------------------------------------------------------------
CASELOOP_CASE_NUMBER_PREFIX = os.environ.get("CASELOOP_CASE_NUMBER_PREFIX", "CL")
CASELOOP_PAGE_SIZE = 25
CASELOOP_MAX_PAGE_SIZE = 200
# a token's last_used_at is written at most this often, so reads stay reads
CASELOOP_TOKEN_TOUCH_SECONDS = 60
# sign-in throttling: failures counted in the database, so every app server agrees
CASELOOP_LOGIN_MAX_FAILURES = int(os.environ.get("CASELOOP_LOGIN_MAX_FAILURES", 5))  # per username
CASELOOP_LOGIN_MAX_FAILURES_PER_IP = int(os.environ.get("CASELOOP_LOGIN_MAX_FAILURES_PER_IP", 30))
CASELOOP_LOGIN_WINDOW_SECONDS = int(os.environ.get("CASELOOP_LOGIN_WINDOW_SECONDS", 15 * 60))
# someone seen on a case within this many seconds counts as "here now" (the page polls every 10 s)
CASELOOP_PRESENCE_SECONDS = 30

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("CASELOOP_LOG_LEVEL", "WARNING")},
}

if "pytest" in sys.modules:
    # Fast hashing in tests; production keeps PBKDF2.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
CASELOOP_DEFAULT_PHONE_REGION = os.environ.get("CASELOOP_DEFAULT_PHONE_REGION", "US")

# --- the email channel (docs/channels/email.md) ---------------------------------------------
CASELOOP_EMAIL_MAX_BYTES = int(os.environ.get("CASELOOP_EMAIL_MAX_BYTES", 40 * 1024 * 1024))  # SMTP SIZE limit
CASELOOP_EMAIL_DEFAULT_TEAM = os.environ.get("CASELOOP_EMAIL_DEFAULT_TEAM", "")  # team slug for unconfigured addresses
CASELOOP_EMAIL_ACKNOWLEDGE = _env_bool("CASELOOP_EMAIL_ACKNOWLEDGE", True)  # when no mailbox is configured
CASELOOP_EMAIL_MAX_PER_ADDRESS_PER_HOUR = int(os.environ.get("CASELOOP_EMAIL_MAX_PER_ADDRESS_PER_HOUR", 5))
CASELOOP_EMAIL_PLUS_ADDRESSING = _env_bool("CASELOOP_EMAIL_PLUS_ADDRESSING", True)  # Reply-To: support+CL-n@…
CASELOOP_EMAIL_FROM_NAME = os.environ.get("CASELOOP_EMAIL_FROM_NAME", "Customer service")
CASELOOP_EMAIL_SMTPD_TLS_CERT = os.environ.get("CASELOOP_EMAIL_SMTPD_TLS_CERT", "")  # enables STARTTLS
CASELOOP_EMAIL_SMTPD_TLS_KEY = os.environ.get("CASELOOP_EMAIL_SMTPD_TLS_KEY", "")
CASELOOP_EMAIL_IMAP_CA_FILE = os.environ.get("CASELOOP_EMAIL_IMAP_CA_FILE", "")  # extra CA for IMAP servers
CASELOOP_EMAIL_POLL_SECONDS = int(os.environ.get("CASELOOP_EMAIL_POLL_SECONDS", 60))
# key(s) sealing secrets stored in the database (IMAP passwords), comma-separated, the first seals;
# empty: derived from SECRET_KEY (caseloop.core.secretbox)
CASELOOP_SECRETS_KEY = os.environ.get("CASELOOP_SECRETS_KEY", "")

# --- surveys, follow-ups and recognition (docs/feedback.md) ------------------------------------------
CASELOOP_SURVEY_LINK_DAYS = int(os.environ.get("CASELOOP_SURVEY_LINK_DAYS", 30))  # survey links expire after
CASELOOP_FOLLOW_UP_LINK_DAYS = int(os.environ.get("CASELOOP_FOLLOW_UP_LINK_DAYS", 14))
CASELOOP_SURVEY_FATIGUE_DAYS = int(os.environ.get("CASELOOP_SURVEY_FATIGUE_DAYS", 30))  # when a survey has no rule
# two different one-click answers this close together are a link scanner, not a person (ADR 0041)
CASELOOP_SURVEY_CLICK_CONFLICT_SECONDS = int(os.environ.get("CASELOOP_SURVEY_CLICK_CONFLICT_SECONDS", 120))
CASELOOP_THANK_YOU_HOURS = int(os.environ.get("CASELOOP_THANK_YOU_HOURS", 24))  # praise is thanked within

# --- insights: outcomes beside compliance (docs/insights.md) -----------------------------------------
CASELOOP_INSIGHTS_REFRESH_MINUTES = int(os.environ.get("CASELOOP_INSIGHTS_REFRESH_MINUTES", 15))
CASELOOP_INSIGHTS_CASE_TYPE_FIELD = os.environ.get("CASELOOP_INSIGHTS_CASE_TYPE_FIELD", "case_type")

# --- the web form and the customer portal (docs/channels/webform.md, docs/portal.md) ----------------------
# topics: key=Label or key=Label@team-slug, comma-separated; the key becomes the new case's tag
CASELOOP_WEBFORM_TOPICS = os.environ.get("CASELOOP_WEBFORM_TOPICS", "question=A question,repair=A repair or a service "
                                         "visit,billing=Billing,feedback=Feedback or an idea")  # fmt: skip
CASELOOP_WEBFORM_DEFAULT_TEAM = os.environ.get("CASELOOP_WEBFORM_DEFAULT_TEAM", "")  # team slug
CASELOOP_WEBFORM_MAX_PER_ADDRESS = int(os.environ.get("CASELOOP_WEBFORM_MAX_PER_ADDRESS", 5))  # per window
CASELOOP_WEBFORM_MAX_PER_IP = int(os.environ.get("CASELOOP_WEBFORM_MAX_PER_IP", 20))
CASELOOP_WEBFORM_WINDOW_SECONDS = int(os.environ.get("CASELOOP_WEBFORM_WINDOW_SECONDS", 3600))
CASELOOP_WEBFORM_ACKNOWLEDGE = _env_bool("CASELOOP_WEBFORM_ACKNOWLEDGE", True)
CASELOOP_WEBFORM_MAX_FILES = int(os.environ.get("CASELOOP_WEBFORM_MAX_FILES", 5))
CASELOOP_WEBFORM_MAX_FILE_BYTES = int(os.environ.get("CASELOOP_WEBFORM_MAX_FILE_BYTES", 10 * 1024 * 1024))
CASELOOP_WEBFORM_FILE_TYPES = os.environ.get(
    "CASELOOP_WEBFORM_FILE_TYPES", "pdf,png,jpg,jpeg,gif,webp,heic,txt,csv,docx,xlsx,odt,ods,mp4,mov"
)
CASELOOP_PORTAL_NAME = os.environ.get("CASELOOP_PORTAL_NAME", "Customer service")
CASELOOP_PORTAL_LINK_MINUTES = int(os.environ.get("CASELOOP_PORTAL_LINK_MINUTES", 30))
CASELOOP_PORTAL_LINKS_PER_ADDRESS = int(os.environ.get("CASELOOP_PORTAL_LINKS_PER_ADDRESS", 3))  # per window
CASELOOP_PORTAL_LINKS_PER_IP = int(os.environ.get("CASELOOP_PORTAL_LINKS_PER_IP", 20))
CASELOOP_PORTAL_LINK_WINDOW_SECONDS = int(os.environ.get("CASELOOP_PORTAL_LINK_WINDOW_SECONDS", 15 * 60))

# --- rules, authority, approvals, SLAs, prices and promises (docs/policies.md, docs/promises.md) ------------
CASELOOP_CURRENCY = os.environ.get("CASELOOP_CURRENCY", "USD")  # of authority limits and prices by default
CASELOOP_APPROVAL_DUE_MINUTES = int(os.environ.get("CASELOOP_APPROVAL_DUE_MINUTES", 15))  # each approver's turn
CASELOOP_APPROVAL_REMIND_MINUTES = int(os.environ.get("CASELOOP_APPROVAL_REMIND_MINUTES", 5))  # before it is due
CASELOOP_OVERRIDE_REVIEW_MIN = int(os.environ.get("CASELOOP_OVERRIDE_REVIEW_MIN", 10))  # overrides before suggesting
CASELOOP_PROMISE_REMIND_MINUTES = int(os.environ.get("CASELOOP_PROMISE_REMIND_MINUTES", 30))  # owner reminded
# a promise still open this close to its due time is at risk
CASELOOP_PROMISE_AT_RISK_MINUTES = int(os.environ.get("CASELOOP_PROMISE_AT_RISK_MINUTES", 10))
CASELOOP_PROMISE_CHECK_BATCH = int(os.environ.get("CASELOOP_PROMISE_CHECK_BATCH", 5000))  # rows per checker transaction
# an owner is told of each promise changed in one pass up to this many (of a kind), then once with the rest
CASELOOP_PROMISE_NOTICES_PER_PASS = int(os.environ.get("CASELOOP_PROMISE_NOTICES_PER_PASS", 20))
CASELOOP_PROMISE_APOLOGIES = _env_bool("CASELOOP_PROMISE_APOLOGIES", True)  # tell customers of broken promises

# --- live chat, phone and SMS (docs/channels/chat.md, phone.md, sms.md) ------------------------------
CASELOOP_CHAT_POLL_SECONDS = float(os.environ.get("CASELOOP_CHAT_POLL_SECONDS", 0.5))  # a stream's database poll
CASELOOP_CHAT_STREAM_SECONDS = int(os.environ.get("CASELOOP_CHAT_STREAM_SECONDS", 25))  # then the page reconnects
# each open stream holds a server thread: at most this many per process, the rest poll (ADR 0061)
CASELOOP_CHAT_STREAMS_PER_PROCESS = int(os.environ.get("CASELOOP_CHAT_STREAMS_PER_PROCESS", 1))
CASELOOP_CHAT_AGENT_SECONDS = int(os.environ.get("CASELOOP_CHAT_AGENT_SECONDS", 90))  # a rep seen this recently is in
CASELOOP_CHAT_STARTS_PER_IP_PER_HOUR = int(os.environ.get("CASELOOP_CHAT_STARTS_PER_IP_PER_HOUR", 20))
CASELOOP_CHAT_MESSAGES_PER_MINUTE = int(os.environ.get("CASELOOP_CHAT_MESSAGES_PER_MINUTE", 30))  # per chat
# the telephony provider (Twilio or one that speaks its webhooks and TwiML); the token never lives in the repository
CASELOOP_TWILIO_ACCOUNT_SID = os.environ.get("CASELOOP_TWILIO_ACCOUNT_SID", "")
CASELOOP_TWILIO_AUTH_TOKEN = os.environ.get("CASELOOP_TWILIO_AUTH_TOKEN", "")
CASELOOP_TWILIO_API_URL = os.environ.get("CASELOOP_TWILIO_API_URL", "https://api.twilio.com")
CASELOOP_TWILIO_WEBHOOK_BASE = os.environ.get("CASELOOP_TWILIO_WEBHOOK_BASE", "")  # public origin; else SITE_URL
CASELOOP_PHONE_RECORD_CALLS = _env_bool("CASELOOP_PHONE_RECORD_CALLS", True)
# processed provider webhook requests are kept this long (failed ones until retried or purged by hand)
CASELOOP_WEBHOOK_KEEP_DAYS = int(os.environ.get("CASELOOP_WEBHOOK_KEEP_DAYS", 30))
CASELOOP_PHONE_RING_SECONDS = int(os.environ.get("CASELOOP_PHONE_RING_SECONDS", 30))
CASELOOP_SMS_SENDER = os.environ.get("CASELOOP_SMS_SENDER", "caseloop.channels.sms.senders.TwilioSender")
CASELOOP_SMS_FROM_NUMBER = os.environ.get("CASELOOP_SMS_FROM_NUMBER", "")  # when a case has no number of ours yet
