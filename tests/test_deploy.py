"""Deployment on paper, checked where it can be: the Grafana dashboard queries metrics the app
exports (names and labels), the systemd units start commands the CLI accepts, and every secret
has its environment line and its rotation note."""

from __future__ import annotations

import configparser
import json
import re
import shlex
from pathlib import Path

import pytest
from prometheus_client.metrics import MetricWrapperBase

from cli import build_parser
from config import secret_keys
from console.prometheus import QueueCollector
from telemetry import metrics

ROOT = Path(__file__).resolve().parent.parent
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "gauge": ("",)}
# PromQL words that may stand where a label list is read.
AGGREGATION_BY = re.compile(r"\bby \(([^)]*)\)")
SELECTOR = re.compile(r"(endfraud_[a-z_]+)\{([^}]*)\}")


def exported(redis, config) -> dict[str, set[str]]:
    """Every series name the app exports → its label names."""
    found: dict[str, set[str]] = {}
    for value in vars(metrics).values():
        if isinstance(value, MetricWrapperBase):
            labels = set(value._labelnames)
            assert value._type is not None, value._name
            for suffix in SUFFIXES[value._type]:
                found[value._name + suffix] = labels | ({"le"} if suffix == "_bucket" else set())
    for family in QueueCollector(redis, config.queue).collect():
        found[family.name] = {"queue"} if family.name.startswith("endfraud_queue") else set()
    return found


def dashboard_exprs() -> list[str]:
    dashboard = json.loads((ROOT / "docs/grafana-dashboard.json").read_text(encoding="utf-8"))
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


def test_every_dashboard_query_names_a_metric_the_app_exports(redis, config):
    names = exported(redis, config)
    exprs = dashboard_exprs()
    assert len(exprs) >= 15
    for expr in exprs:
        used = re.findall(r"endfraud_[a-z_]+", expr)
        assert used, expr
        for name in used:
            assert name in names, f"{name} in {expr!r} is not exported"


def test_every_dashboard_label_belongs_to_its_metric(redis, config):
    names = exported(redis, config)
    for expr in dashboard_exprs():
        metric = re.findall(r"endfraud_[a-z_]+", expr)[0]
        for selected_metric, selector in SELECTOR.findall(expr):
            for label in re.findall(r"([a-z_]+)\s*!?=~?", selector):
                assert label in names[selected_metric], f"{label} in {expr!r}"
        for group in AGGREGATION_BY.findall(expr):
            for label in (part.strip() for part in group.split(",")):
                assert label in names[metric], f"by {label} in {expr!r}"


@pytest.mark.parametrize("unit", sorted(p.name for p in (ROOT / "deploy").glob("*.service")))
def test_systemd_unit_starts_a_command_the_cli_accepts(unit):
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment]
    parser.read(ROOT / "deploy" / unit)
    assert {"Unit", "Service", "Install"} <= set(parser.sections())
    service = parser["Service"]
    assert service["Restart"] == "always" and service["User"] == "endfraud"
    command = shlex.split(service["ExecStart"].replace("%i", "9101"))
    assert command[0].endswith("/.venv/bin/endfraud")
    args = build_parser().parse_args(command[1:])
    assert args.command in ("web", "worker", "scheduler")
    assert unit.startswith(f"endfraud-{args.command}")


def test_secrets_env_example_lists_every_secret_setting():
    lines = (ROOT / "deploy/secrets.env.example").read_text(encoding="utf-8").splitlines()
    names = {line.split("=", 1)[0] for line in lines if line and not line.startswith("#")}
    expected = {"ENDFRAUD_" + key.replace(".", "__").upper() for key in secret_keys()}
    assert names == expected


def test_deploy_guide_says_how_to_rotate_every_secret():
    guide = (ROOT / "docs/deploy.md").read_text(encoding="utf-8")
    rotation = guide.split("## Rotating secrets", 1)[1]
    for key in secret_keys():
        assert f"`{key}`" in rotation, key
