"""The typed config: env overrides, validation naming the key, no secret defaults outside demo."""

from __future__ import annotations

import pytest

from config import EXAMPLE_CONFIG, ConfigError, load_config, secret_keys


def test_example_config_loads_in_demo_mode():
    config = load_config(EXAMPLE_CONFIG, environ={}, demo=True)
    assert config.service.is_demo
    assert config.service.port == 8000
    assert config.wechat.encrypt_mode == "safe"


def test_example_config_is_refused_in_production_because_of_demo_secrets():
    with pytest.raises(ConfigError, match=r"wechat\.app_secret"):
        load_config(EXAMPLE_CONFIG, environ={})


def test_environment_overrides_a_key():
    config = load_config(EXAMPLE_CONFIG, demo=True,
                         environ={"ENDFRAUD_REDIS__URL": "redis://10.1.2.3:6379/0",
                                  "ENDFRAUD_SERVICE__PORT": "9000",
                                  "ENDFRAUD_REDIS__CLUSTER": "true"})
    assert config.redis.url == "redis://10.1.2.3:6379/0"
    assert config.service.port == 9000
    assert config.redis.cluster is True


def test_config_path_comes_from_environment(tmp_path):
    path = tmp_path / "custom.toml"
    path.write_text(EXAMPLE_CONFIG.read_text().replace("port = 8000", "port = 8123"))
    config = load_config(environ={"ENDFRAUD_CONFIG": str(path)}, demo=True)
    assert config.service.port == 8123


@pytest.mark.parametrize("env, key", [
    ({"ENDFRAUD_SERVICE__PORT": "eighty"}, "service.port"),
    ({"ENDFRAUD_REDIS__CLUSTER": "maybe"}, "redis.cluster"),
    ({"ENDFRAUD_WECHAT__ENCRYPT_MODE": "rot13"}, "wechat.encrypt_mode"),
    ({"ENDFRAUD_WECHAT__ENCODING_AES_KEY": "short"}, "wechat.encoding_aes_key"),
    ({"ENDFRAUD_WECHAT__ENCRYPT_MODE": "compat", "ENDFRAUD_WECHAT__ENCODING_AES_KEY": "short"},
     "wechat.encoding_aes_key"),
    ({"ENDFRAUD_WECHAT__TIMESTAMP_WINDOW_S": "0"}, "wechat.timestamp_window_s"),
    ({"ENDFRAUD_WECHAT__API_BASE_URL": "ftp://x"}, "wechat.api_base_url"),
    ({"ENDFRAUD_REDIS__URL": "mysql://x"}, "redis.url"),
    ({"ENDFRAUD_WECHAT__NO_SUCH_KEY": "1"}, "wechat.no_such_key"),
    ({"ENDFRAUD_SCREENSHOTS__OCR_TIMEOUT_S": "0"}, "screenshots.ocr_timeout_s"),
    ({"ENDFRAUD_SCREENSHOTS__OCR_THREADS": "0"}, "screenshots.ocr_threads"),
])
def test_malformed_setting_fails_naming_the_key(env, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_config(EXAMPLE_CONFIG, environ=env, demo=True)


@pytest.mark.parametrize("mode", ["plain", "compat", "safe"])
def test_each_of_wechats_three_encryption_modes_is_a_valid_setting(mode):
    config = load_config(EXAMPLE_CONFIG, environ={"ENDFRAUD_WECHAT__ENCRYPT_MODE": mode},
                         demo=True)
    assert config.wechat.encrypt_mode == mode
    assert config.wechat.timestamp_window_s == 300


def test_missing_secret_fails_in_production_naming_the_key(tmp_path):
    path = tmp_path / "prod.toml"
    path.write_text('[wechat]\napp_id = "wx1"\n')
    with pytest.raises(ConfigError, match=r"required outside demo mode"):
        load_config(path, environ={})


def _production_file(tmp_path, **overrides: str):
    """A production config with every secret and required setting real; ``overrides`` maps
    dotted keys to TOML values (replacing or adding)."""
    path = tmp_path / "prod.toml"
    values = {key: f'"real-{key}-value"' for key in secret_keys()}
    values["wechat.encoding_aes_key"] = '"' + "Z" * 43 + '"'
    values["alerts.source_keys"] = '["platform:' + "k" * 32 + '"]'
    values["wechat.app_id"] = '"wx1"'
    values["sms.http_url"] = '"https://sms.example.cn/send"'
    values["sms.http_key_id"] = '"key-1"'
    values["sms.http_sign_name"] = '"终结诈骗"'
    values.update(overrides)
    sections: dict[str, list[str]] = {}
    for dotted, value in values.items():
        section, key = dotted.split(".")
        sections.setdefault(section, []).append(f"{key} = {value}")
    path.write_text("\n".join(f"[{s}]\n" + "\n".join(lines) for s, lines in sections.items()))
    return path


def test_production_config_with_real_secrets_loads(tmp_path):
    config = load_config(_production_file(tmp_path), environ={})
    assert not config.service.is_demo


@pytest.mark.parametrize("source", ["demo-platform", "other-platform", "x"])
def test_production_refuses_the_published_demo_alert_key_under_any_source_name(tmp_path,
                                                                                 source):
    path = _production_file(tmp_path, **{
        "alerts.source_keys": f'["{source}:demo-alert-source-key-not-for-production"]'})
    with pytest.raises(ConfigError, match=r"alerts\.source_keys: the published demo key"):
        load_config(path, environ={})


@pytest.mark.parametrize("key", ["http_url", "http_key_id", "http_secret", "http_sign_name"])
def test_production_refuses_an_empty_sms_gateway_naming_the_key(tmp_path, key):
    path = _production_file(tmp_path, **{f"sms.{key}": '""'})
    with pytest.raises(ConfigError, match=rf"sms\.{key}: required outside demo mode"):
        load_config(path, environ={})


def test_production_refuses_open_metrics_naming_the_key(tmp_path):
    path = _production_file(tmp_path, **{"console.metrics_token": '""'})
    with pytest.raises(ConfigError, match=r"console\.metrics_token: required outside demo mode"):
        load_config(path, environ={})


def test_production_refusals_apply_to_environment_overrides_too(tmp_path):
    with pytest.raises(ConfigError, match=r"console\.metrics_token"):
        load_config(_production_file(tmp_path), environ={"ENDFRAUD_CONSOLE__METRICS_TOKEN": ""})


def test_demo_mode_still_starts_with_the_demo_key_no_gateway_and_open_metrics():
    config = load_config(EXAMPLE_CONFIG, environ={}, demo=True)
    assert config.console.metrics_token == "" and config.sms.http_url == ""


def test_secrets_never_appear_in_repr():
    config = load_config(EXAMPLE_CONFIG, environ={}, demo=True)
    text = repr(config)
    assert config.wechat.token not in text
    assert config.privacy.phone_hmac_key not in text


def test_malformed_toml_is_reported(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[service\nport = 1")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(path, environ={})


def test_every_setting_is_documented_in_the_example():
    import dataclasses
    import typing

    from config import Config

    text = EXAMPLE_CONFIG.read_text()
    for section in dataclasses.fields(Config):
        assert f"[{section.name}]" in text
        for f in dataclasses.fields(typing.get_type_hints(Config)[section.name]):
            assert f"\n{f.name} = " in text, f"{section.name}.{f.name} missing from example"
