"""Django settings for Switchyard: every knob is read here, through one django-environ object."""

from __future__ import annotations

import tomllib
import warnings
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)


def _router_defaults() -> dict:
    """The `[tool.router]` table of pyproject.toml: fallbacks for the routing weights."""
    try:
        with open(BASE_DIR / "pyproject.toml", "rb") as fh:
            return tomllib.load(fh).get("tool", {}).get("router", {})
    except (OSError, tomllib.TOMLDecodeError):
        return {}


_ROUTER = _router_defaults()

SECRET_KEY = env("DJANGO_SECRET_KEY", default="switchyard-dev-insecure-change-me")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["*"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "providers",
    "governance",
    "agents",
    "gateway",
]

# This stack serves the admin and the governance API only. The data plane
# (/v1/*, /routing/*, /metrics) is a separate lean ASGI app: see gateway/asgi.py.
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "gateway.urls"
ASGI_APPLICATION = "gateway.asgi.application"

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
            ],
        },
    },
]

# --- Storage -----------------------------------------------------------------
SQLITE_DB_PATH = env.path("SQLITE_DB_PATH", default=str(BASE_DIR / "data" / "models.db"))
if env("DATABASE_URL", default=""):
    DATABASES = {"default": env.db("DATABASE_URL")}
    DATABASES["default"].setdefault("CONN_MAX_AGE", 60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    Path(SQLITE_DB_PATH).parent.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(SQLITE_DB_PATH),
            "OPTIONS": {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL;"},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default="")
# Prefix of every key Switchyard writes to Redis (cache and its own counters), so
# several deployments or test runs can share one Redis.
REDIS_KEY_PREFIX = env("REDIS_KEY_PREFIX", default="switchyard")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": REDIS_KEY_PREFIX,
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL]},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "switchyard",
        }
    }
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# --- Governance API (DRF) ----------------------------------------------------
# Token first, so an anonymous request gets 401 with WWW-Authenticate; staff only.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAdminUser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
}
# The schema and its docs page are public by design: they describe the API and
# hold no secrets (every endpoint they describe still needs staff credentials).
SPECTACULAR_SETTINGS = {
    "TITLE": "Switchyard governance API",
    "DESCRIPTION": "Routing profiles, routing rules and callers of the Switchyard LLM gateway.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
}
# Admin messages carry a new virtual key's secret once: keep them server-side,
# not in a signed (readable) cookie.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
# Data-plane callers: when true, /v1/* requires a valid virtual key (Bearer).
VIRTUAL_KEYS_REQUIRED = env.bool("VIRTUAL_KEYS_REQUIRED", default=False)

# --- Celery (gateway/celery.py); without a broker, tasks run eagerly in-process --
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=REDIS_URL or None)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_TIME_LIMIT = 120
CELERY_TASK_SOFT_TIME_LIMIT = 100
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1

# --- Agents (agents/): registration, heartbeats, expiry, scheduled tasks -------
# Secret an agent sends to POST /register (Bearer); empty: registration is refused (503).
AGENT_REGISTRATION_TOKEN = env("AGENT_REGISTRATION_TOKEN", default="")
# Seconds without a heartbeat before an agent is expired (its models stop being routed),
# and the interval agents are told to heartbeat at.
AGENT_HEARTBEAT_TIMEOUT = env.float("AGENT_HEARTBEAT_TIMEOUT", default=60.0)
AGENT_HEARTBEAT_INTERVAL = env.float("AGENT_HEARTBEAT_INTERVAL", default=15.0)
# Networks an agent's endpoint may resolve to. Link-local and cloud metadata
# addresses are refused whatever this says.
AGENT_ALLOWED_NETWORKS = env.list("AGENT_ALLOWED_NETWORKS", default=[
    "127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7",
])
# How often the expiry sweep runs (Celery beat, or the gateway's own loop without a broker).
AGENT_EXPIRY_SECONDS = env.float("AGENT_EXPIRY_SECONDS", default=max(5.0, AGENT_HEARTBEAT_TIMEOUT / 2))
# Seconds between OpenAI model-list refreshes; 0 disables (skipped without EXTERNAL_OPENAI_KEY).
OPENAI_REFRESH_SECONDS = env.float("OPENAI_REFRESH_SECONDS", default=3600.0)
CELERY_BEAT_SCHEDULE = {
    "expire-agents": {
        "task": "agents.tasks.expire_agents",
        "schedule": AGENT_EXPIRY_SECONDS,
        "options": {"expires": AGENT_EXPIRY_SECONDS},  # a missed run is replaced, not queued up
    },
}
if OPENAI_REFRESH_SECONDS > 0:
    CELERY_BEAT_SCHEDULE["refresh-openai-models"] = {
        "task": "providers.tasks.refresh_openai_models",
        "schedule": OPENAI_REFRESH_SECONDS,
        "options": {"expires": OPENAI_REFRESH_SECONDS},
    }
# Celery's own Redis keys (queues, bindings, results) share REDIS_KEY_PREFIX with ours.
CELERY_BROKER_TRANSPORT_OPTIONS = {"global_keyprefix": f"{REDIS_KEY_PREFIX}:celery:"}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"global_keyprefix": f"{REDIS_KEY_PREFIX}:celery:"}
# --- end Agents ------------------------------------------------------------------

# --- Upstream providers (quickstart variables) ---------------------------------
LOCAL_AGENT_URL = env("LOCAL_AGENT_URL", default="http://localhost:5000")
OPENAI_BASE_URL = env("OPENAI_BASE_URL", default="https://api.openai.com")
EXTERNAL_OPENAI_KEY = env("EXTERNAL_OPENAI_KEY", default="")
LLMD_ENDPOINT = env("LLMD_ENDPOINT", default="")
ANTHROPIC_BASE_URL = env("ANTHROPIC_BASE_URL", default="https://api.anthropic.com")
EXTERNAL_ANTHROPIC_KEY = env("EXTERNAL_ANTHROPIC_KEY", default="")
ANTHROPIC_VERSION = env("ANTHROPIC_VERSION", default="2023-06-01")
ANTHROPIC_DEFAULT_MAX_TOKENS = env.int("ANTHROPIC_DEFAULT_MAX_TOKENS", default=4096)
GOOGLE_BASE_URL = env("GOOGLE_BASE_URL", default="https://generativelanguage.googleapis.com")
EXTERNAL_GOOGLE_KEY = env("EXTERNAL_GOOGLE_KEY", default="")
OPENROUTER_BASE_URL = env("OPENROUTER_BASE_URL", default="https://openrouter.ai")
EXTERNAL_OPENROUTER_KEY = env("EXTERNAL_OPENROUTER_KEY", default="")
# Grok is xAI's model family. The quickstart's sample pointed GROK_BASE_URL at
# api.groq.com, a different company; we default to xAI and say so in .env.example.
GROK_BASE_URL = env("GROK_BASE_URL", default="https://api.x.ai")
EXTERNAL_GROK_KEY = env("EXTERNAL_GROK_KEY", default="")
VENICE_BASE_URL = env("VENICE_BASE_URL", default="https://api.venice.ai")
EXTERNAL_VENICE_KEY = env("EXTERNAL_VENICE_KEY", default="")
HF_CACHE_DIR = env.path("HF_CACHE_DIR", default=str(BASE_DIR / "data" / "hf_models"))
HF_DEVICE = env("HF_DEVICE", default="cpu")
HUGGING_FACE_HUB_TOKEN = env("HUGGING_FACE_HUB_TOKEN", default="")

# Explicit upstream timeouts (seconds). `read` is the longest silence between
# two reads, so a long stream that keeps producing tokens is never cut.
UPSTREAM_CONNECT_TIMEOUT = env.float("UPSTREAM_CONNECT_TIMEOUT", default=5.0)
UPSTREAM_READ_TIMEOUT = env.float("UPSTREAM_READ_TIMEOUT", default=120.0)
UPSTREAM_WRITE_TIMEOUT = env.float("UPSTREAM_WRITE_TIMEOUT", default=30.0)
UPSTREAM_POOL_TIMEOUT = env.float("UPSTREAM_POOL_TIMEOUT", default=10.0)
UPSTREAM_MAX_CONNECTIONS = env.int("UPSTREAM_MAX_CONNECTIONS", default=512)
# "aiohttp" (default: httpx API over httpx-aiohttp) or "httpx" (httpcore's pool; for comparison).
UPSTREAM_HTTP_TRANSPORT = env("UPSTREAM_HTTP_TRANSPORT", default="aiohttp")
MAX_REQUEST_BYTES = env.int("MAX_REQUEST_BYTES", default=16 * 1024 * 1024)

# Circuit breaker: after this many consecutive failures a provider sits out
# for CIRCUIT_OPEN_SECONDS (it is still tried when nothing else is left).
CIRCUIT_FAILURE_THRESHOLD = env.int("CIRCUIT_FAILURE_THRESHOLD", default=5)
CIRCUIT_OPEN_SECONDS = env.float("CIRCUIT_OPEN_SECONDS", default=30.0)

# How often a data-plane process asks the shared cache whether config changed.
CONFIG_VERSION_CHECK_SECONDS = env.float("CONFIG_VERSION_CHECK_SECONDS", default=0.5)

# --- Routing knobs (env first, then [tool.router] in pyproject.toml) ------------
RATE_LIMIT_REQUESTS = env.int("RATE_LIMIT_REQUESTS", default=60)
ROUTER_COST_WEIGHT = env.float("ROUTER_COST_WEIGHT", default=float(_ROUTER.get("ROUTER_COST_WEIGHT", 1.0)))
ROUTER_LATENCY_WEIGHT = env.float(
    "ROUTER_LATENCY_WEIGHT", default=float(_ROUTER.get("ROUTER_LATENCY_WEIGHT", 1.0))
)
ROUTER_COST_THRESHOLD = env.float(
    "ROUTER_COST_THRESHOLD", default=float(_ROUTER.get("ROUTER_COST_THRESHOLD", 1000))
)

# --- Intent routing (routing preferences; docs/intent-routing.md) ---------------
# The spec's YAML (version, model_providers, routing_preferences, routing), loaded into the
# database at startup when it differs from the last file loaded; empty: edit in admin/API.
ROUTING_CONFIG_FILE = env("ROUTING_CONFIG_FILE", default="")
# auto (embedding when the `intent` extra is installed, else lexical) | lexical | embedding | llm
INTENT_CLASSIFIER = env("INTENT_CLASSIFIER", default="auto")
# Minimum score for a match; unset: the classifier's own tuned default.
INTENT_THRESHOLD = env.float("INTENT_THRESHOLD", default=None)
# Embedding matcher: how far the best route must beat the closest everyday-request text; unset: 0.1.
INTENT_MARGIN = env.float("INTENT_MARGIN", default=None)
# Threads classifying with the embedding matcher in each process. 2 took a 2-core machine from
# 356 to 567-624 decisions/s at 8 connections but cost each decision ~0.6 ms at one connection
# (threads take turns with cold caches): 1 favours latency, more favours throughput when a
# core would otherwise idle (not when running one gateway worker per core).
INTENT_THREADS = env.int("INTENT_THREADS", default=1)
# The `llm` classifier's router model (empty: the config's default model) and its time limit.
INTENT_LLM_MODEL = env("INTENT_LLM_MODEL", default="")
INTENT_LLM_TIMEOUT = env.float("INTENT_LLM_TIMEOUT", default=2.0)
# Weight of the newest sample in each model's latency moving average.
ROUTER_LATENCY_ALPHA = env.float("ROUTER_LATENCY_ALPHA", default=0.2)
# Completion tokens assumed for cost estimates when a request sets no max_tokens.
ROUTER_DEFAULT_OUTPUT_TOKENS = env.int("ROUTER_DEFAULT_OUTPUT_TOKENS", default=256)
# --- end Intent routing --------------------------------------------------------------

# --- Static files, i18n --------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = True
# WhiteNoise hands Django a sync file iterator for admin/static assets; under ASGI
# Django warns on each one. Harmless for static files, and only on the admin path.
warnings.filterwarnings("ignore", message="StreamingHttpResponse must consume synchronous iterators")
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

# Several uvicorn workers: set this (prometheus_client reads it too) so /metrics
# aggregates all workers' counters.
PROMETHEUS_MULTIPROC_DIR = env("PROMETHEUS_MULTIPROC_DIR", default="")

# --- Logging: console plus logs/router.log rotated daily -----------------------
LOG_LEVEL = env("LOG_LEVEL", default="INFO").upper()
LOG_FILE = env("LOG_FILE", default=str(BASE_DIR / "logs" / "router.log"))
ACCESS_LOG = env.bool("ACCESS_LOG", default=True)
_handlers: dict[str, dict] = {
    "console": {"class": "logging.StreamHandler", "formatter": "plain"},
}
if LOG_FILE:
    Path(LOG_FILE).parent.mkdir(parents=True, exist_ok=True)
    _handlers["file"] = {
        "class": "logging.handlers.TimedRotatingFileHandler",
        "filename": LOG_FILE,
        "when": "midnight",
        "backupCount": 14,
        "formatter": "plain",
        "delay": True,
    }
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": _handlers,
    "root": {"handlers": list(_handlers), "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # One line per request: written once (to the file when there is one), not
        # to every root handler; it costs ~15% of the gateway's CPU otherwise.
        "switchyard.access": {
            "handlers": ["file" if LOG_FILE else "console"],
            "level": "INFO" if ACCESS_LOG else "WARNING",
            "propagate": False,
        },
    },
}
