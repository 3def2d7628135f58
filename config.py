"""One typed, validated configuration object for every process.

Loaded from a TOML file (path from ``ENDFRAUD_CONFIG``, default ``config.toml``, falling back to
``config.example.toml`` in demo mode) and overridden by environment variables named
``ENDFRAUD_<SECTION>__<KEY>`` (upper case, double underscore between section and key), e.g.
``ENDFRAUD_REDIS__URL=redis://10.0.0.5:6379/0``. Nothing else in the project reads ``os.environ``
for settings.

A missing or malformed value stops start-up with a ``ConfigError`` naming the key. Secrets have
working defaults only in demo mode: in production an empty secret, or one equal to the published
demo value, is refused.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent
EXAMPLE_CONFIG = PROJECT_ROOT / "config.example.toml"
ENV_PREFIX = "ENDFRAUD_"


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the key."""


def _secret_field(default: str = "") -> Any:
    return field(default=default, repr=False, metadata={"secret": True})


@dataclass(frozen=True)
class ServiceConfig:
    mode: str = "production"
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = "http://127.0.0.1:8000"
    data_dir: str = ".data"
    web_workers: int = 2
    web_threads: int = 4
    secret_key: str = _secret_field()
    log_level: str = "INFO"
    # "text" (default) or "json": one JSON object per line (telemetry.logs).
    log_format: str = "text"

    @property
    def is_demo(self) -> bool:
        return self.mode == "demo"


@dataclass(frozen=True)
class RedisConfig:
    url: str = ""
    cluster: bool = False
    embedded_port: int = 6390
    replica_wait_ms: int = 500


@dataclass(frozen=True)
class WeChatConfig:
    app_id: str = ""
    app_secret: str = _secret_field()
    token: str = _secret_field()
    encoding_aes_key: str = _secret_field()
    encrypt_mode: str = "safe"
    api_base_url: str = "https://api.weixin.qq.com/"
    timeout_s: float = 5.0
    max_body_bytes: int = 65536
    dedup_ttl_s: int = 3600
    timestamp_window_s: int = 300
    warning_template_id: str = ""


@dataclass(frozen=True)
class SandboxConfig:
    host: str = "127.0.0.1"
    port: int = 8001
    callback_delay_ms: int = 50


@dataclass(frozen=True)
class PrivacyConfig:
    phone_hmac_key: str = _secret_field()
    phone_encryption_key: str = _secret_field()


@dataclass(frozen=True)
class QueueConfig:
    reclaim_idle_s: int = 30
    max_deliveries: int = 5
    block_ms: int = 1000
    concurrency: int = 8
    # A consumer whose loop has not completed a round for this long is reported stuck.
    consumer_stuck_s: int = 120


@dataclass(frozen=True)
class ConsoleConfig:
    session_lifetime_s: int = 8 * 3600
    login_max_failures_per_pair: int = 5
    login_first_delay_s: int = 30
    login_max_failures_per_ip: int = 30
    login_lockout_s: int = 900
    # Reverse proxies in front of the web process whose X-Forwarded-For entry we trust.
    trusted_proxy_hops: int = 0
    # Bearer token Prometheus must send to /metrics; required outside demo mode.
    metrics_token: str = _secret_field()


@dataclass(frozen=True)
class MetricsConfig:
    """Where the worker and scheduler serve Prometheus metrics (the web serves ``/metrics``)."""
    host: str = "127.0.0.1"
    # 0: not served. ``--metrics-port`` overrides (several workers on one machine need several).
    worker_port: int = 0
    scheduler_port: int = 0


@dataclass(frozen=True)
class SmsConfig:
    provider: str = "http"
    sandbox_url: str = ""
    http_url: str = ""
    http_key_id: str = ""
    http_secret: str = _secret_field()
    http_sign_name: str = ""
    timeout_s: float = 5.0


# Values a warning-template keyword can carry (alerts.messages builds them).
ALERT_TEMPLATE_VALUES = ("what", "phone", "counterpart", "detected_at", "advice", "risk")
DEMO_ALERT_SOURCE_KEY = "demo-platform:demo-alert-source-key-not-for-production"


@dataclass(frozen=True)
class AlertsConfig:
    # "source:key" per warning platform; the key signs that source's requests (HMAC-SHA256).
    source_keys: tuple[str, ...] = field(default=(), repr=False, metadata={"secret": True})
    signature_window_s: int = 300
    max_batch: int = 1000
    # "<template keyword>=<value>" pairs: the category template's keyword fields.
    template_fields: tuple[str, ...] = ("thing1=what", "phone_number2=phone",
                                        "character_string3=counterpart", "time4=detected_at",
                                        "thing5=advice")
    answer_timeout_s: int = 600
    retention_days: int = 30
    send_attempts: int = 3
    retry_backoff_ms: int = 200
    unconfirmed_resend_s: int = 20

    def __post_init__(self) -> None:
        for entry in self.source_keys:
            source, _, key = entry.partition(":")
            if not re.fullmatch(r"[a-z0-9_.-]{1,32}", source) or len(key) < 16:
                raise ConfigError("alerts.source_keys: each entry must be \"<source>:<key>\" with "
                                  "a [a-z0-9_.-] source and a key of at least 16 characters")
        for entry in self.template_fields:
            keyword, _, value = entry.partition("=")
            if not keyword or value not in ALERT_TEMPLATE_VALUES:
                raise ConfigError(f"alerts.template_fields: {entry!r} must be "
                                  f"\"<keyword>=<one of {', '.join(ALERT_TEMPLATE_VALUES)}>\"")
        if not 1 <= self.max_batch <= 1000:
            raise ConfigError("alerts.max_batch: must be 1..1000")
        if self.answer_timeout_s < 1 or self.retention_days < 1 or self.send_attempts < 1:
            raise ConfigError("alerts: answer_timeout_s, retention_days and send_attempts "
                              "must be positive")

    def source_key(self, source: str) -> str | None:
        for entry in self.source_keys:
            name, _, key = entry.partition(":")
            if name == source:
                return key
        return None


@dataclass(frozen=True)
class BroadcastConfig:
    monthly_allowance: int = 4
    batch_size: int = 10_000
    mass_calls_per_s: int = 10
    custom_per_s: int = 50
    misfire_grace_s: int = 300
    sync_interval_s: float = 2.0


@dataclass(frozen=True)
class ScreenshotConfig:
    # OCR of one screenshot takes ~0.5-2 s on 2 cores; past this the citizen is told to resend.
    ocr_timeout_s: float = 15.0
    # onnxruntime threads per inference (one inference at a time per worker process).
    ocr_threads: int = 2


@dataclass(frozen=True)
class Config:
    service: ServiceConfig = field(default_factory=ServiceConfig)
    redis: RedisConfig = field(default_factory=RedisConfig)
    wechat: WeChatConfig = field(default_factory=WeChatConfig)
    sandbox: SandboxConfig = field(default_factory=SandboxConfig)
    privacy: PrivacyConfig = field(default_factory=PrivacyConfig)
    queue: QueueConfig = field(default_factory=QueueConfig)
    sms: SmsConfig = field(default_factory=SmsConfig)
    console: ConsoleConfig = field(default_factory=ConsoleConfig)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    alerts: AlertsConfig = field(default_factory=AlertsConfig)
    broadcast: BroadcastConfig = field(default_factory=BroadcastConfig)
    screenshots: ScreenshotConfig = field(default_factory=ScreenshotConfig)

    @property
    def data_path(self) -> Path:
        path = Path(self.service.data_dir)
        return path if path.is_absolute() else PROJECT_ROOT / path

    def replace(self, **sections: Mapping[str, Any]) -> Config:
        """A copy with some keys changed, validated like a loaded file (used by demo and tests)."""
        raw = dataclasses.asdict(self)
        for section, values in sections.items():
            raw.setdefault(section, {}).update(values)
        return build_config(raw)


# The published demo values (also written in config.example.toml). Refused outside demo mode.
DEMO_SECRETS = {
    ("wechat", "app_secret"): "demo-app-secret-not-for-production",
    ("wechat", "token"): "endfraud_demo_token",
    ("wechat", "encoding_aes_key"): "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
    ("service", "secret_key"): "demo-flask-secret-key-not-for-production",
    ("privacy", "phone_hmac_key"): "demo-phone-hmac-key-not-for-production",
    ("privacy", "phone_encryption_key"): "ZGVtby1waG9uZS1lbmNyeXB0aW9uLWtleS0zMmJ5dGU=",
}

_CHOICES = {
    ("service", "mode"): {"production", "demo"},
    ("wechat", "encrypt_mode"): {"plain", "compat", "safe"},
    ("service", "log_level"): {"DEBUG", "INFO", "WARNING", "ERROR"},
    ("service", "log_format"): {"text", "json"},
    ("sms", "provider"): {"sandbox", "http"},
}


def _coerce(key: str, expected: Any, value: Any) -> Any:
    """Check or convert one value to the dataclass field's type; env values arrive as strings."""
    if expected is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in {"true", "1", "yes", "false", "0", "no"}:
            return value.lower() in {"true", "1", "yes"}
        raise ConfigError(f"{key}: expected true/false, got {value!r}")
    if expected is int:
        if isinstance(value, bool):
            raise ConfigError(f"{key}: expected an integer, got {value!r}")
        try:
            if isinstance(value, (int, str)):
                return int(value)
        except ValueError:
            pass
        raise ConfigError(f"{key}: expected an integer, got {value!r}")
    if expected is float:
        if isinstance(value, bool):
            raise ConfigError(f"{key}: expected a number, got {value!r}")
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{key}: expected a number, got {value!r}") from None
    if expected is str:
        if not isinstance(value, str):
            raise ConfigError(f"{key}: expected a string, got {value!r}")
        return value
    origin = typing.get_origin(expected)
    if origin in (list, tuple):
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{key}: expected a list, got {value!r}")
        (item_type, *_) = typing.get_args(expected) or (str,)
        return tuple(_coerce(f"{key}[{i}]", item_type, v) for i, v in enumerate(value))
    return value


def _build_section(name: str, cls: type, raw: Mapping[str, Any]) -> Any:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{name}: expected a table of settings, got {raw!r}")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = set(raw) - known
    if unknown:
        raise ConfigError(f"{name}.{sorted(unknown)[0]}: unknown setting")
    values = {}
    for f in dataclasses.fields(cls):
        if f.name in raw:
            key = f"{name}.{f.name}"
            values[f.name] = _coerce(key, hints[f.name], raw[f.name])
            allowed = _CHOICES.get((name, f.name))
            if allowed and values[f.name] not in allowed:
                raise ConfigError(
                    f"{key}: must be one of {sorted(allowed)}, got {values[f.name]!r}")
    return cls(**values)


def build_config(raw: Mapping[str, Any]) -> Config:
    hints = typing.get_type_hints(Config)
    unknown = set(raw) - set(hints)
    if unknown:
        raise ConfigError(f"{sorted(unknown)[0]}: unknown section")
    sections = {name: _build_section(name, hints[name], raw.get(name, {})) for name in hints}
    config = Config(**sections)
    _validate(config)
    return config


def _validate(config: Config) -> None:
    for (section, key), demo_value in DEMO_SECRETS.items():
        value = getattr(getattr(config, section), key)
        if config.service.is_demo:
            continue
        if not value:
            raise ConfigError(
                f"{section}.{key}: required outside demo mode (a secret has no default)")
        if value == demo_value:
            raise ConfigError(
                f"{section}.{key}: the published demo value is refused outside demo mode")
    if not config.wechat.app_id:
        raise ConfigError("wechat.app_id: required")
    if config.wechat.encrypt_mode != "plain" and len(config.wechat.encoding_aes_key) != 43:
        raise ConfigError("wechat.encoding_aes_key: must be 43 characters in compat and safe mode")
    if not 30 <= config.wechat.timestamp_window_s <= 3600:
        raise ConfigError("wechat.timestamp_window_s: must be between 30 and 3600 seconds")
    url = config.wechat.api_base_url
    if not url.startswith(("http://", "https://")) or not url.endswith("/"):
        raise ConfigError(f"wechat.api_base_url: must be an http(s) URL ending in '/', got {url!r}")
    if config.redis.url and not config.redis.url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError(f"redis.url: must be a redis:// URL or empty, got {config.redis.url!r}")
    if not 1 <= config.queue.concurrency <= 64:
        raise ConfigError(f"queue.concurrency: must be 1..64, got {config.queue.concurrency}")
    if config.redis.replica_wait_ms < 1:
        raise ConfigError("redis.replica_wait_ms: must be at least 1, got "
                          f"{config.redis.replica_wait_ms}")
    if not 1 <= config.service.port <= 65535:
        raise ConfigError(f"service.port: out of range: {config.service.port}")
    for key in ("worker_port", "scheduler_port"):
        if not 0 <= getattr(config.metrics, key) <= 65535:
            raise ConfigError(f"metrics.{key}: out of range: {getattr(config.metrics, key)}")
    _validate_sms(config)
    if config.screenshots.ocr_timeout_s <= 0:
        raise ConfigError("screenshots.ocr_timeout_s: must be positive, "
                          f"got {config.screenshots.ocr_timeout_s}")
    if not 1 <= config.screenshots.ocr_threads <= 64:
        raise ConfigError("screenshots.ocr_threads: must be 1..64, "
                          f"got {config.screenshots.ocr_threads}")
    _validate_broadcast(config)
    console = config.console
    for key in ("login_max_failures_per_pair", "login_first_delay_s", "login_max_failures_per_ip",
                "login_lockout_s", "session_lifetime_s"):
        if getattr(console, key) < 1:
            raise ConfigError(f"console.{key}: must be at least 1, got {getattr(console, key)}")
    if not 0 <= console.trusted_proxy_hops <= 5:
        raise ConfigError(f"console.trusted_proxy_hops: must be 0..5, got "
                          f"{console.trusted_proxy_hops}")
    if config.queue.consumer_stuck_s * 1000 <= config.queue.block_ms:
        raise ConfigError("queue.consumer_stuck_s: must be longer than queue.block_ms")
    if config.alerts.unconfirmed_resend_s < config.wechat.timeout_s:
        # A send still in flight must never look abandoned (see docs/alerts.md).
        raise ConfigError("alerts.unconfirmed_resend_s: must be at least wechat.timeout_s")
    if not config.service.is_demo:
        _validate_production(config)


def _validate_production(config: Config) -> None:
    """What a demo may leave open and production must not: each refusal names its key."""
    demo_key = DEMO_ALERT_SOURCE_KEY.partition(":")[2]
    for entry in config.alerts.source_keys:
        source, _, key = entry.partition(":")
        # The key is what signs; the published one is refused whatever source it is filed under.
        if key == demo_key:
            raise ConfigError(f"alerts.source_keys: the published demo key is refused outside "
                              f"demo mode (source {source!r})")
    sms = config.sms
    if sms.provider == "http":
        # Without a gateway, binding codes and the SMS fallback of warnings would fail silently.
        for key in ("http_url", "http_key_id", "http_secret", "http_sign_name"):
            if not getattr(sms, key):
                raise ConfigError(f"sms.{key}: required outside demo mode (the SMS gateway "
                                  f"sends binding codes and warning fallbacks)")
    if not config.console.metrics_token:
        raise ConfigError("console.metrics_token: required outside demo mode (/metrics would be "
                          "open to anyone)")


def _validate_broadcast(config: Config) -> None:
    bc = config.broadcast
    # message/mass/send takes 2..10,000 openids (40130 below two):
    # https://developers.weixin.qq.com/doc/service/api/notify/message/api_masssend.html
    if not 2 <= bc.batch_size <= 10_000:
        raise ConfigError(f"broadcast.batch_size: must be 2..10000, got {bc.batch_size}")
    for key in ("monthly_allowance", "mass_calls_per_s", "custom_per_s", "misfire_grace_s"):
        if getattr(bc, key) < 1:
            raise ConfigError(f"broadcast.{key}: must be at least 1, got {getattr(bc, key)}")
    if bc.sync_interval_s <= 0:
        raise ConfigError(f"broadcast.sync_interval_s: must be positive, got {bc.sync_interval_s}")


def _validate_sms(config: Config) -> None:
    sms = config.sms
    if sms.provider == "sandbox" and not config.service.is_demo:
        # The simulator shows codes to anyone; a production deployment must never use it.
        raise ConfigError("sms.provider: \"sandbox\" is refused outside demo mode; use \"http\"")
    for key, url in (("sms.sandbox_url", sms.sandbox_url), ("sms.http_url", sms.http_url)):
        if url and not url.startswith(("http://", "https://")):
            raise ConfigError(f"{key}: must be an http(s) URL or empty, got {url!r}")
    if sms.timeout_s <= 0:
        raise ConfigError(f"sms.timeout_s: must be positive, got {sms.timeout_s}")


def _env_overrides(environ: Mapping[str, str]) -> dict[str, dict[str, str]]:
    overrides: dict[str, dict[str, str]] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or "__" not in name or name == "ENDFRAUD_CONFIG":
            continue
        section, _, key = name[len(ENV_PREFIX):].partition("__")
        overrides.setdefault(section.lower(), {})[key.lower()] = value
    return overrides


def load_config(path: str | os.PathLike[str] | None = None,
                environ: Mapping[str, str] | None = None,
                demo: bool = False) -> Config:
    """Load the config file, apply environment overrides, validate.

    ``demo=True`` forces demo mode and falls back to config.example.toml, whose demo webhook
    token, AppID and EncodingAESKey outside tools can use to sign messages.
    """
    environ = os.environ if environ is None else environ
    chosen = path or environ.get("ENDFRAUD_CONFIG")
    if chosen is None:
        chosen = "config.toml" if Path("config.toml").exists() and not demo else EXAMPLE_CONFIG
    chosen_path = Path(chosen)
    if not chosen_path.exists():
        raise ConfigError(f"config file not found: {chosen_path}")
    try:
        raw: dict[str, Any] = tomllib.loads(chosen_path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{chosen_path}: not valid TOML: {exc}") from None
    for section, values in _env_overrides(environ).items():
        table = raw.setdefault(section, {})
        if not isinstance(table, dict):
            raise ConfigError(f"{section}: expected a table of settings")
        table.update(values)
    if demo:
        raw.setdefault("service", {})["mode"] = "demo"
    return build_config(raw)


def secret_keys() -> list[str]:
    """Dotted names of every secret setting (for docs and log scrubbing)."""
    names = []
    for section in dataclasses.fields(Config):
        cls = typing.get_type_hints(Config)[section.name]
        for f in dataclasses.fields(cls):
            if f.metadata.get("secret"):
                names.append(f"{section.name}.{f.name}")
    return names
