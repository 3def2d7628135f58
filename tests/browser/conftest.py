"""Browser tests: the real app on a real loopback server, driven by Debian's headless Chromium.

Playwright must not download its own browser (no network for that here): we point it at
/usr/bin/chromium, which scripts/bootstrap.sh installs. Screenshots go to test-artifacts/console/.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from console.accounts import create_account
from tests.servers import serve_wsgi

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"
PASSWORD = "correct horse battery"

if not os.path.exists(CHROMIUM):
    pytest.skip(f"{CHROMIUM} is absent (scripts/bootstrap.sh installs Debian's chromium)",
                allow_module_level=True)


@pytest.fixture(scope="session")
def browser():
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def simulator_url() -> Iterator[str]:
    """The local WeChat simulator (QR codes for posters, mass preview) on a real socket."""
    from config import load_config
    from sandbox.server import create_app as create_simulator

    app = create_simulator(load_config(demo=True), webhook_url="http://127.0.0.1:9/wechat")
    server, base = serve_wsgi(app)
    yield base
    app.extensions["sandbox"].webhook.close()
    server.shutdown()


@pytest.fixture
def config(redis_url: str, simulator_url: str):
    from tests.conftest import make_config

    return make_config(redis_url, wechat={"api_base_url": simulator_url})


@pytest.fixture
def live_server(app) -> Iterator[str]:
    """The app under a real threaded WSGI server on a free loopback port."""
    server, base = serve_wsgi(app)
    yield base.rstrip("/")
    server.shutdown()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="zh-CN",
                                  accept_downloads=True)
    context.set_default_timeout(10_000)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    # HTTP error statuses the test provokes on purpose show up as "Failed to load resource".
    tab.on("console", lambda msg: errors.append(msg.text)
           if msg.type == "error" and not msg.text.startswith("Failed to load resource") else None)
    yield tab
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / f"{request.node.name}-final.png"), full_page=True)
    context.close()
    assert not errors, f"browser errors: {errors}"


def shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def login(page, base: str, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{base}/console/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


@pytest.fixture
def staff(redis):
    """Create a staff account: staff(username, role, station="")."""
    def make(username: str, role: str, station: str = "") -> str:
        create_account(redis, username, PASSWORD, role, station)
        return username
    return make
