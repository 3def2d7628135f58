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
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

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

    @property
    def is_demo(self) -> bool:
        return self.mode == "demo"


@dataclass(frozen=True)
class RedisConfig:
    url: str = ""
    cluster: bool = False
    embedded_port: int = 6390


@dataclass(frozen=True)
class WeChatConfig:
    app_id: str = ""
    app_secret: str = _secret_field()
    token: str = _secret_field()
    encoding_aes_key: str = _secret_field()
    encrypt_mode: str = "safe"
    api_base_url: str = "https://api.weixin.qq.com/"
    mp_base_url: str = "https://mp.weixin.qq.com/"
    timeout_s: float = 5.0
    max_body_bytes: int = 65536
    dedup_ttl_s: int = 3600
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


@dataclass(frozen=True)
class Config:
    service: ServiceConfig = field(default_factory=ServiceConfig)
    redis: RedisConfig = field(default_factory=RedisConfig)
    wechat: WeChatConfig = field(default_factory=WeChatConfig)
    sandbox: SandboxConfig = field(default_factory=SandboxConfig)
    privacy: PrivacyConfig = field(default_factory=PrivacyConfig)
    queue: QueueConfig = field(default_factory=QueueConfig)

    @property
    def data_path(self) -> Path:
        path = Path(self.service.data_dir)
        return path if path.is_absolute() else PROJECT_ROOT / path

    def replace(self, **sections: Mapping[str, Any]) -> "Config":
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
    ("wechat", "encrypt_mode"): {"plain", "safe"},
    ("service", "log_level"): {"DEBUG", "INFO", "WARNING", "ERROR"},
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
                raise ConfigError(f"{key}: must be one of {sorted(allowed)}, got {values[f.name]!r}")
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
            raise ConfigError(f"{section}.{key}: required outside demo mode (a secret has no default)")
        if value == demo_value:
            raise ConfigError(f"{section}.{key}: the published demo value is refused outside demo mode")
    if not config.wechat.app_id:
        raise ConfigError("wechat.app_id: required")
    if config.wechat.encrypt_mode == "safe" and len(config.wechat.encoding_aes_key) != 43:
        raise ConfigError("wechat.encoding_aes_key: must be 43 characters in safe mode")
    for key, url in (("wechat.api_base_url", config.wechat.api_base_url),
                     ("wechat.mp_base_url", config.wechat.mp_base_url)):
        if not url.startswith(("http://", "https://")) or not url.endswith("/"):
            raise ConfigError(f"{key}: must be an http(s) URL ending in '/', got {url!r}")
    if config.redis.url and not config.redis.url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError(f"redis.url: must be a redis:// URL or empty, got {config.redis.url!r}")
    if not 1 <= config.service.port <= 65535:
        raise ConfigError(f"service.port: out of range: {config.service.port}")


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
