"""The simulator's parts, built once by ``create_app`` and reached from views via ``current()``."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from config import Config
from sandbox.faults import FaultBoard
from sandbox.state import SandboxState
from sandbox.webhook import Webhook


@dataclass(frozen=True)
class Sandbox:
    config: Config
    state: SandboxState
    faults: FaultBoard
    webhook: Webhook
    account: str  # the gh_ original id, ToUserName of every callback
    callback_delay_s: float

    def reset(self) -> None:
        self.state.reset()
        self.faults.clear()
        self.webhook.cancel_pending()


def current() -> Sandbox:
    sandbox: Sandbox = current_app.extensions["sandbox"]
    return sandbox
