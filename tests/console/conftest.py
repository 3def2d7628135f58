"""Console fixtures: real accounts (argon2) and a login through the real form."""

from __future__ import annotations

import re

import pytest

from console.accounts import create_account

PASSWORD = "correct horse battery"


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert match, "page carries no CSRF token"
    return match.group(1)


def form_login(client, username: str, password: str = PASSWORD, ip: str = "127.0.0.1"):
    page = client.get("/console/login", environ_base={"REMOTE_ADDR": ip})
    token = csrf_from(page.get_data(as_text=True))
    return client.post("/console/login", data={"username": username, "password": password,
                                               "csrf_token": token},
                       environ_base={"REMOTE_ADDR": ip})


@pytest.fixture
def admin_account(redis):
    create_account(redis, "chief", PASSWORD, "admin")
    return "chief"
